"""Find a service: search and match the directory, a service's page."""
