"""The process's hub signing key for outgoing messages, loaded once per key file."""

from __future__ import annotations

import functools
from pathlib import Path

from joserfc.jwk import ECKey

from gateway.delivery.keys import load_message_key

__all__ = ["signing_key"]


@functools.cache
def signing_key(path: Path) -> ECKey:
    """The private signing key in `path` (cached; see `keys.load_message_key` for errors)."""
    return load_message_key(path)
