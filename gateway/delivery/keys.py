"""The hub's message-signing key: an EC P-256 JWK file, its public half published as JWKS."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey

from kernel.errors import StartupError

__all__ = ["generate_message_key_file", "load_message_key", "public_jwks"]


def generate_message_key_file(path: Path) -> bool:
    """Create the signing key file (private JWK, mode 0600) unless it exists.

    Returns True when a key was created.
    """
    if path.exists():
        return False
    key = ECKey.generate_key("P-256", private=True)
    data = {**key.as_dict(private=True), "kid": key.thumbprint(), "alg": "ES256", "use": "sig"}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    return True


def load_message_key(path: Path) -> ECKey:
    """The signing key from its file.

    Raises:
        StartupError: missing, unreadable, or not an EC P-256 private key with a `kid`.
    """
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise StartupError(
            f"message signing key {path} does not exist; run `refhub keys init` or set "
            "REFHUB_MESSAGE_SIGNING_KEY_FILE"
        ) from None
    except (OSError, ValueError):
        raise StartupError(f"message signing key {path} is not a JSON Web Key") from None
    if data.get("kty") != "EC" or data.get("crv") != "P-256" or "d" not in data:
        raise StartupError(f"message signing key {path} must be a private EC P-256 JWK")
    key = ECKey.import_key(data)
    if not key.kid:
        key.ensure_kid()
    return key


def public_jwks(*keys: ECKey) -> dict[str, Any]:
    """The JWK Set receivers verify with: public members only."""
    return {
        "keys": [
            {**key.as_dict(private=False), "kid": key.kid, "alg": "ES256", "use": "sig"}
            for key in keys
        ]
    }
