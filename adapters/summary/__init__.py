"""refhub case summary JSON: the hub's own format, with a published JSON Schema."""
