"""Which JWKs a client may register: public RSA ≥ 2048 / EC P-384 / Ed25519 keys with a kid."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import ECKey, OctKey, OKPKey

from gateway.auth.clients.errors import InvalidKey
from gateway.auth.clients.keys import public_key_from_jwk, public_keys_from_jwks
from tests.gateway.auth.factories import private_key, public_jwk


@pytest.mark.parametrize(("alg", "kty"), [("RS384", "RSA"), ("ES384", "EC"), ("EdDSA", "OKP")])
def test_supported_public_keys_are_accepted(alg: str, kty: str) -> None:
    checked = public_key_from_jwk(public_jwk(private_key(alg), "k1"))
    assert checked.alg == alg
    assert checked.kid == "k1"
    assert checked.jwk["kty"] == kty
    assert checked.jwk["use"] == "sig"


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "k"])
def test_private_members_are_refused(member: str) -> None:
    jwk = public_jwk(private_key("RS384"), "k1")
    with pytest.raises(InvalidKey, match="public keys only"):
        public_key_from_jwk({**jwk, member: "AQAB"})


@pytest.mark.parametrize("alg", ["RS384", "ES384", "EdDSA"])
def test_a_full_private_jwk_is_refused(alg: str) -> None:
    jwk = {**private_key(alg).as_dict(private=True), "kid": "k1"}
    with pytest.raises(InvalidKey, match="public keys only"):
        public_key_from_jwk(jwk)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _bad_keys() -> list[tuple[str, Any]]:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    n = weak.public_numbers().n.to_bytes(128, "big")
    rsa_1024 = {"kty": "RSA", "n": _b64(n), "e": "AQAB", "kid": "weak"}
    p256 = {**ECKey.generate_key("P-256").as_dict(private=False), "kid": "p256"}
    x25519 = {**OKPKey.generate_key("X25519").as_dict(private=False), "kid": "x"}
    oct_key = {**OctKey.generate_key(256).as_dict(), "kid": "hmac"}
    good = public_jwk(private_key("ES384"), "k1")
    return [
        ("RSA under 2048 bits", rsa_1024),
        ("EC P-256", p256),
        ("X25519", x25519),
        ("symmetric", oct_key),
        ("no kid", {k: v for k, v in good.items() if k != "kid"}),
        ("empty kid", {**good, "kid": ""}),
        ("wrong alg", {**good, "alg": "ES256"}),
        ("alg none", {**good, "alg": "none"}),
        ("use enc", {**good, "use": "enc"}),
        ("key_ops sign", {**good, "key_ops": ["sign"]}),
        ("missing x", {k: v for k, v in good.items() if k != "x"}),
        ("garbage x", {**good, "x": "!!notbase64"}),
        ("point off the curve", {**good, "y": good["x"]}),
        ("not an object", ["kty", "EC"]),
    ]


_BAD_KEYS = _bad_keys()


@pytest.mark.parametrize(("why", "jwk"), _BAD_KEYS, ids=[why for why, _ in _BAD_KEYS])
def test_unusable_keys_are_refused(why: str, jwk: Any) -> None:
    with pytest.raises(InvalidKey):
        public_key_from_jwk(jwk)


def test_a_jwks_needs_distinct_kids_and_a_sane_size() -> None:
    one = public_jwk(private_key("ES384"), "same")
    two = public_jwk(private_key("EdDSA"), "same")
    with pytest.raises(InvalidKey, match="own `kid`"):
        public_keys_from_jwks({"keys": [one, two]})
    with pytest.raises(InvalidKey):
        public_keys_from_jwks({"keys": []})
    with pytest.raises(InvalidKey):
        public_keys_from_jwks([one])
    many = [public_jwk(private_key("EdDSA"), f"k{i}") for i in range(11)]
    with pytest.raises(InvalidKey):
        public_keys_from_jwks({"keys": many})
    assert len(public_keys_from_jwks({"keys": many[:2]})) == 2


def test_stored_form_keeps_only_public_members() -> None:
    jwk = {**public_jwk(private_key("EdDSA"), "k1"), "x5c": ["MIIB..."], "extra": "dropped"}
    assert set(public_key_from_jwk(jwk).jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
