"""The `refhub` command line."""
