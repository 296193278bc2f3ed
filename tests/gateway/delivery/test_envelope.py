"""Signed-then-encrypted messages: receivers open them with public libraries; anything
tampered, misaddressed or signed by someone else is refused."""

from __future__ import annotations

import base64
import json

import pytest
from joserfc import jws
from joserfc.jwk import ECKey, KeySet, OctKey, OKPKey
from joserfc.jws import JWSRegistry
from jwcrypto import jwe as jwcrypto_jwe
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws

from gateway.delivery.envelope import EnvelopeError, open_message, seal_message, verify_signed

PAYLOAD = json.dumps({"resourceType": "Bundle", "type": "transaction"}).encode()


@pytest.fixture(scope="module")
def hub_key() -> ECKey:
    key = ECKey.generate_key("P-256", private=True)
    key.ensure_kid()
    return key


def _published(*keys: ECKey) -> KeySet:
    return KeySet([ECKey.import_key(k.as_dict(private=False)) for k in keys])


@pytest.mark.parametrize("curve", ["P-256", "P-384", "X25519"])
def test_receiver_opens_what_the_hub_sealed(hub_key: ECKey, curve: str) -> None:
    receiver = (OKPKey if curve == "X25519" else ECKey).generate_key(curve, private=True)
    public = type(receiver).import_key(receiver.as_dict(private=False))
    sealed = seal_message(
        PAYLOAD,
        message_id="msg-1",
        content_type="application/fhir+json",
        signing_key=hub_key,
        receiver_key=public,
    )
    opened = open_message(sealed, receiver_key=receiver, signer_keys=_published(hub_key))
    assert opened.payload == PAYLOAD
    assert opened.message_id == "msg-1"
    assert opened.content_type == "application/fhir+json"
    assert opened.signer_kid == hub_key.kid


def test_jwcrypto_opens_it_too(hub_key: ECKey) -> None:
    """An independent library, as a receiver might use: decrypt, then verify."""
    receiver = ECKey.generate_key("P-256", private=True)
    sealed = seal_message(
        PAYLOAD,
        message_id="msg-2",
        content_type="application/fhir+json",
        signing_key=hub_key,
        receiver_key=receiver,
    )
    token = jwcrypto_jwe.JWE()
    token.deserialize(sealed, key=jwcrypto_jwk.JWK(**receiver.as_dict(private=True)))
    signed = jwcrypto_jws.JWS()
    signed.deserialize(token.payload.decode())
    signed.verify(jwcrypto_jwk.JWK(**hub_key.as_dict(private=False)), alg="ES256")
    assert signed.payload == PAYLOAD


def _flip(segment: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    raw[len(raw) // 2] ^= 1
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_tampering_and_misaddressing_are_refused(hub_key: ECKey) -> None:
    receiver = ECKey.generate_key("P-256", private=True)
    sealed = seal_message(
        PAYLOAD,
        message_id="m",
        content_type="application/json",
        signing_key=hub_key,
        receiver_key=receiver,
    )
    parts = sealed.split(".")
    for index in (0, 2, 3, 4):  # header, iv, ciphertext, tag
        broken = ".".join(_flip(p) if i == index else p for i, p in enumerate(parts))
        with pytest.raises(EnvelopeError):
            open_message(broken, receiver_key=receiver, signer_keys=_published(hub_key))
    stranger = ECKey.generate_key("P-256", private=True)
    with pytest.raises(EnvelopeError, match="cannot decrypt"):
        open_message(sealed, receiver_key=stranger, signer_keys=_published(hub_key))


def test_only_the_hubs_keys_are_trusted(hub_key: ECKey) -> None:
    impostor = ECKey.generate_key("P-256", private=True)
    impostor.ensure_kid()
    receiver = ECKey.generate_key("P-256", private=True)
    sealed = seal_message(
        PAYLOAD,
        message_id="m",
        content_type="application/json",
        signing_key=impostor,
        receiver_key=receiver,
    )
    with pytest.raises(EnvelopeError, match="signature not valid"):
        open_message(sealed, receiver_key=receiver, signer_keys=_published(hub_key))


def test_unsigned_and_hmac_tokens_are_refused(hub_key: ECKey) -> None:
    header = {"alg": "none", "kid": hub_key.kid, "typ": "refhub-message+jws", "refhub-msg": "m"}
    segments = [
        base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode(),
        base64.urlsafe_b64encode(PAYLOAD).rstrip(b"=").decode(),
        "",
    ]
    with pytest.raises(EnvelopeError):
        verify_signed(".".join(segments), _published(hub_key))
    # HS256 keyed with the hub's public key material, the classic confusion attack
    secret = OctKey.import_key(json.dumps(hub_key.as_dict(private=False)).encode())
    forged = jws.serialize_compact(
        {"alg": "HS256", "kid": hub_key.kid, "typ": "refhub-message+jws", "refhub-msg": "m"},
        PAYLOAD,
        secret,
        algorithms=["HS256"],
        registry=JWSRegistry(strict_check_header=False, algorithms=["HS256"]),
    )
    with pytest.raises(EnvelopeError):
        verify_signed(forged, _published(hub_key))
