"""Audit: signed checkpoints of the chain head and verification of the whole chain."""
