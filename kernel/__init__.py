"""Thin shared kernel: settings, database base and session, audit chain, outbox, crypto primitives.

The kernel imports none of refhub's domain packages; they all import it.
"""

__version__ = "0.1.0"
