"""Trying a conversion without submitting: `POST /convert` and `refhub convert`."""
