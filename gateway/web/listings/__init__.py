"""The organisation's directory listings, edited by its administrators."""
