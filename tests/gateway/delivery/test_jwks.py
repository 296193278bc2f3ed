"""The hub publishes its message-signing key; receivers verify real messages against it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from joserfc.jwk import ECKey, KeySet

from gateway.delivery.envelope import open_message, seal_message
from gateway.runtime import Runtime


def test_jwks_publishes_only_the_public_key(client: TestClient, runtime: Runtime) -> None:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jwk-set+json"
    [key] = response.json()["keys"]
    assert "d" not in key
    assert key["kid"] == runtime.message_signing_key.kid
    assert key["alg"] == "ES256"


def test_a_message_signed_by_the_hub_verifies_against_its_jwks(
    client: TestClient, runtime: Runtime
) -> None:
    receiver = ECKey.generate_key("P-256", private=True)
    sealed = seal_message(
        b"{}",
        message_id="m-1",
        content_type="application/fhir+json",
        signing_key=runtime.message_signing_key,
        receiver_key=receiver,
    )
    published = KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
    opened = open_message(sealed, receiver_key=receiver, signer_keys=published)
    assert opened.message_id == "m-1"
