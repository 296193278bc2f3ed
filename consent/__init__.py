"""refhub consent package."""
