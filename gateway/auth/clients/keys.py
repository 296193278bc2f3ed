"""Public keys of system clients: which JWKs are accepted, and turning them into verifiers.

A client registers public keys only, each with a `kid` and one algorithm the hub accepts:
RSA of 2048 bits or more for RS384, EC P-384 for ES384, OKP Ed25519 for EdDSA.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

from gateway.auth.clients.errors import InvalidKey

__all__ = [
    "ALGORITHMS",
    "MAX_KEYS_PER_CLIENT",
    "PublicKey",
    "public_key_from_jwk",
    "public_keys_from_jwks",
    "verification_key",
]

#: The only signing algorithms the token endpoint accepts (never `none`, never HMAC).
ALGORITHMS = ("RS384", "ES384", "EdDSA")
MAX_KEYS_PER_CLIENT = 10
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192
MAX_KID_LENGTH = 200

# Members that carry private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4).
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_PUBLIC_MEMBERS = {"RSA": ("n", "e"), "EC": ("crv", "x", "y"), "OKP": ("crv", "x")}
_ALG_FOR = {"RSA": "RS384", "EC": "ES384", "OKP": "EdDSA"}
_CURVE_FOR = {"EC": "P-384", "OKP": "Ed25519"}

VerificationKey = RSAKey | ECKey | OKPKey


@dataclass(frozen=True)
class PublicKey:
    """A checked public key: its id, algorithm, and the JWK reduced to public members."""

    kid: str
    alg: str
    jwk: dict[str, Any]


def public_key_from_jwk(jwk: object) -> PublicKey:
    """Check one submitted JWK and return its public form.

    Raises:
        InvalidKey: not a JSON object, private or symmetric material, no usable `kid`, an
            unsupported key type or curve, an RSA key under 2048 bits, or an `alg`/`use`/
            `key_ops` that does not fit signature verification with the key's algorithm.
    """
    if not isinstance(jwk, Mapping):
        raise InvalidKey("a key must be a JSON Web Key object")
    private = sorted(_PRIVATE_MEMBERS & set(jwk))
    if private:
        raise InvalidKey("register public keys only; the key holds private or secret members")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid.strip() or len(kid) > MAX_KID_LENGTH:
        raise InvalidKey(f"every key needs a `kid` of 1 to {MAX_KID_LENGTH} characters")
    kty = jwk.get("kty")
    if not isinstance(kty, str) or kty not in _ALG_FOR:
        raise InvalidKey("key type must be RSA (RS384), EC P-384 (ES384) or OKP Ed25519 (EdDSA)")
    alg = _ALG_FOR[kty]
    if jwk.get("alg", alg) != alg:
        raise InvalidKey(f"a {kty} key is accepted only for {alg}")
    if jwk.get("use", "sig") != "sig":
        raise InvalidKey("`use` must be `sig`")
    key_ops = jwk.get("key_ops", ["verify"])
    if not isinstance(key_ops, list) or set(key_ops) != {"verify"}:
        raise InvalidKey("`key_ops`, if given, must be [`verify`]")
    curve = _CURVE_FOR.get(kty)
    if curve is not None and jwk.get("crv") != curve:
        raise InvalidKey(f"a {kty} key must use the curve {curve}")
    members = {name: jwk.get(name) for name in _PUBLIC_MEMBERS[kty]}
    if not all(isinstance(value, str) and value for value in members.values()):
        raise InvalidKey(f"a {kty} key needs {', '.join(_PUBLIC_MEMBERS[kty])}")
    public = {"kty": kty, **members, "kid": kid, "alg": alg, "use": "sig"}
    if kty == "RSA" and not MIN_RSA_BITS <= _modulus_bits(str(members["n"])) <= MAX_RSA_BITS:
        raise InvalidKey(f"RSA keys must have {MIN_RSA_BITS} to {MAX_RSA_BITS} bits")
    _import(public)
    return PublicKey(kid=kid, alg=alg, jwk=public)


def _modulus_bits(n: str) -> int:
    try:
        modulus = base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidKey("the RSA key cannot be read: its members are not valid") from exc
    return int.from_bytes(modulus, "big").bit_length()


def public_keys_from_jwks(jwks: object) -> list[PublicKey]:
    """Check a JWK Set (`{"keys": [...]}`): 1 to 10 public keys with distinct `kid`s.

    Raises:
        InvalidKey: as `public_key_from_jwk`, or an empty, oversized or ambiguous set.
    """
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_KEYS_PER_CLIENT:
        raise InvalidKey(f'a JWKS is {{"keys": [...]}} with 1 to {MAX_KEYS_PER_CLIENT} keys')
    checked = [public_key_from_jwk(item) for item in keys]
    if len({key.kid for key in checked}) != len(checked):
        raise InvalidKey("every key in the set needs its own `kid`")
    return checked


def verification_key(public_jwk: Mapping[str, Any]) -> VerificationKey:
    """The joserfc key object for a stored public JWK."""
    return _import(dict(public_jwk))


def _import(public: dict[str, Any]) -> VerificationKey:
    kty = public["kty"]
    try:
        if kty == "RSA":
            return RSAKey.import_key(public)
        if kty == "EC":
            return ECKey.import_key(public)
        return OKPKey.import_key(public)
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidKey(f"the {kty} key cannot be read: its members are not valid") from exc
