"""refhub directory package."""
