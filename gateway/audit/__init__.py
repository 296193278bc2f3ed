"""Audit: signed checkpoints of the chain head, their witness outside the database, and
verification of the whole chain."""
