"""Administration of the network: organisations (apply, approve, suspend) and their staff."""
