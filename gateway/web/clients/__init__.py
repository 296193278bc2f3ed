"""Clients: list and search, register, a client's record, consent capture, and the
client's consent-page link."""
