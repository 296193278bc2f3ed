"""refhub gateway package."""
