"""The client example in docs/security-clients.md obtains a token from the real app, as is."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gateway.auth.clients import service
from gateway.auth.clients.router import token_url
from gateway.runtime import Runtime
from tests.gateway.auth.factories import make_client, make_organisation

DOC = Path(__file__).parents[3] / "docs" / "security-clients.md"

pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")


def _example() -> Any:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    script = next(block for block in blocks if "def request_token" in block)
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(compile(script, str(DOC), "exec"), namespace)
    return namespace["request_token"]


@pytest.mark.parametrize("alg", ["RS384", "ES384", "EdDSA"])
def test_documented_client_obtains_a_token(
    alg: str, client: TestClient, db: Session, runtime: Runtime
) -> None:
    request_token = _example()
    rc = make_client(db, make_organisation(db), algs=(alg,))
    kid, (_alg, key) = next(iter(rc.keys.items()))
    private_jwk = {**key.as_dict(private=True), "kid": kid}  # no "alg": derived from kty
    # TestClient is an httpx.Client: the example posts the form exactly as written.
    token = request_token(
        client, token_url(runtime.settings), rc.client_id, private_jwk, "system/Task.rs"
    )
    assert token["token_type"] == "bearer"
    assert token["scope"] == "system/Task.rs"
    caller = service.caller_for_access_token(db, token["access_token"])
    assert caller.id == rc.client.id


def test_documented_key_generation_registers() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    script = next(block for block in blocks if "generate_key" in block)
    namespace: dict[str, Any] = {"print": lambda *_: None}
    exec(compile(script, str(DOC), "exec"), namespace)
    from gateway.auth.clients.keys import public_key_from_jwk

    assert public_key_from_jwk(namespace["public_jwk"]).alg == "ES384"
    assert "d" in namespace["private_jwk"]
