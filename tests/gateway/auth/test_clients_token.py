"""POST /auth/token: every assertion defect is refused (RFC 6749 body, audited, never a 500);
valid assertions of each algorithm, key rotation, cross-checks with jwcrypto, discovery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jwt as jwcrypto_jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.clients import service
from gateway.auth.clients.router import token_url
from gateway.auth.models import Organisation, OrgStatus
from gateway.runtime import Runtime
from kernel.audit import AuditRecord
from tests.gateway.auth.factories import (
    RegisteredClient,
    make_client,
    make_organisation,
    org_admin,
    token_form,
)

TOKEN_PATH = "/auth/token"
# The test clients sign with EdDSA too, whose name RFC 9864 deprecates (SMART still uses it).
pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")


@pytest.fixture
def aud(runtime: Runtime) -> str:
    return token_url(runtime.settings)


@pytest.fixture
def registered(db: Session) -> RegisteredClient:
    return make_client(db, make_organisation(db), algs=("ES384", "EdDSA"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(token: str) -> list[str]:
    return token.split(".")


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    return ".".join(
        [_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), signature]
    )


def _claims(rc: RegisteredClient, aud: str) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": rc.client_id, "sub": rc.client_id, "aud": aud, "exp": now + 240, "jti": "j"}


def _last_token_audit(db: Session) -> AuditRecord:
    record = db.scalars(
        select(AuditRecord)
        .where(AuditRecord.action == "auth.token.issue")
        .order_by(AuditRecord.seq.desc())
    ).first()
    assert record is not None
    return record


def _assert_refused(response: Any, db: Session, error: str = "invalid_client") -> AuditRecord:
    assert response.status_code == (401 if error == "invalid_client" else 400), response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    record = _last_token_audit(db)
    assert record.outcome == "denied"
    assert record.actor == "anonymous"
    return record


# Each defect: a function (client, token url, db) -> the form to post, and the audited reason.
Defect = Callable[[RegisteredClient, str, Session], dict[str, str]]


def _hs256_with_public_key(rc: RegisteredClient, aud: str, _db: Session) -> dict[str, str]:
    kid, (_alg, key) = next(iter(rc.keys.items()))
    pem = key.raw_value.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "kid": kid, "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims(rc, aud)).encode())
    signature = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return token_form(f"{header}.{payload}.{_b64(signature)}")


def _tampered(rc: RegisteredClient, aud: str, _db: Session) -> dict[str, str]:
    header, _payload, signature = _segments(rc.assertion(aud))
    forged = _b64(json.dumps({**_claims(rc, aud), "jti": "other"}).encode())
    return token_form(f"{header}.{forged}.{signature}")


def _revoked_key(rc: RegisteredClient, aud: str, db: Session) -> dict[str, str]:
    kid = next(iter(rc.keys))
    admin = org_admin(rc.client.organisation_id)
    service.revoke_key(db, admin, client_id=rc.client.id, kid=kid)
    return token_form(rc.assertion(aud, kid=kid))


def _revoked_client(rc: RegisteredClient, aud: str, db: Session) -> dict[str, str]:
    admin = org_admin(rc.client.organisation_id)
    service.revoke_client(db, admin, client_id=rc.client.id)
    return token_form(rc.assertion(aud))


def _suspended_org(rc: RegisteredClient, aud: str, db: Session) -> dict[str, str]:
    org = db.get(Organisation, rc.client.organisation_id)
    assert org is not None
    org.status = OrgStatus.SUSPENDED.value
    db.flush()
    return token_form(rc.assertion(aud))


DEFECTS: dict[str, tuple[Defect, str]] = {
    "expired": (
        lambda rc, aud, _: token_form(rc.assertion(aud, exp=int(time.time()) - 1)),
        "expired",
    ),
    "exp more than 5 min ahead": (
        lambda rc, aud, _: token_form(rc.assertion(aud, exp=int(time.time()) + 360)),
        "exp-too-far",
    ),
    "no exp": (lambda rc, aud, _: token_form(rc.assertion(aud, exp=None)), "no-exp"),
    "exp not a number": (lambda rc, aud, _: token_form(rc.assertion(aud, exp="soon")), "bad-exp"),
    "future iat": (
        lambda rc, aud, _: token_form(rc.assertion(aud, iat=int(time.time()) + 120)),
        "iat-in-future",
    ),
    "wrong aud": (
        lambda rc, aud, _: token_form(rc.assertion("https://elsewhere.example/auth/token")),
        "wrong-aud",
    ),
    "aud list with another": (
        lambda rc, aud, _: token_form(rc.assertion(aud, aud=[aud, "https://x.example"])),
        "wrong-aud",
    ),
    "no jti": (lambda rc, aud, _: token_form(rc.assertion(aud, jti=None)), "no-jti"),
    "unknown kid": (
        lambda rc, aud, _: token_form(rc.assertion(aud, header_kid="not-registered")),
        "unknown-kid",
    ),
    "no kid": (lambda rc, aud, _: token_form(rc.assertion(aud, header_kid=None)), "no-kid"),
    "jku header": (
        lambda rc, aud, _: token_form(rc.assertion(aud, header_jku="https://evil.example/jwks")),
        "forbidden-header",
    ),
    "x5u header": (
        lambda rc, aud, _: token_form(rc.assertion(aud, header_x5u="https://evil.example/c")),
        "forbidden-header",
    ),
    "alg none": (
        lambda rc, aud, _: token_form(
            _unsigned({"alg": "none", "kid": next(iter(rc.keys))}, _claims(rc, aud))
        ),
        "malformed",
    ),
    "alg none with a signature part": (
        lambda rc, aud, _: token_form(
            _unsigned({"alg": "none", "kid": next(iter(rc.keys))}, _claims(rc, aud), "AA")
        ),
        "alg-not-allowed",
    ),
    "HS256 keyed with the public key": (_hs256_with_public_key, "alg-not-allowed"),
    "alg of another registered key": (
        lambda rc, aud, _: token_form(
            rc.assertion(aud, kid=list(rc.keys)[1], header_kid=next(iter(rc.keys)))
        ),
        "alg-mismatch",
    ),
    "revoked key": (_revoked_key, "key-revoked"),
    "revoked client": (_revoked_client, "client-revoked"),
    "suspended organisation": (_suspended_org, "organisation-inactive"),
    "tampered payload": (_tampered, "bad-signature"),
    "oversized token": (
        lambda rc, aud, _: token_form(rc.assertion(aud, pad="x" * 9000)),
        "oversized",
    ),
    "iss differs from sub": (
        lambda rc, aud, _: token_form(rc.assertion(aud, sub=str(uuid.uuid4()))),
        "iss-sub-mismatch",
    ),
    "unknown client": (
        lambda rc, aud, _: token_form(
            rc.assertion(aud, iss=str(uuid.uuid4()))  # signed, but by nobody registered
        ),
        "unknown-client",
    ),
    "client_id parameter differs": (
        lambda rc, aud, _: token_form(rc.assertion(aud), client_id=str(uuid.uuid4())),
        "client-id-mismatch",
    ),
    "wrong assertion type": (
        lambda rc, aud, _: token_form(
            rc.assertion(aud), client_assertion_type="urn:ietf:params:oauth:grant-type:saml2-bearer"
        ),
        "unsupported-assertion-type",
    ),
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_defective_assertion_is_refused_and_audited(
    defect: str, client: TestClient, db: Session, registered: RegisteredClient, aud: str
) -> None:
    build, reason = DEFECTS[defect]
    response = client.post(TOKEN_PATH, data=build(registered, aud, db))
    record = _assert_refused(response, db)
    assert record.detail == {"error": "invalid_client", "reason": reason}


def test_replayed_jti_is_refused(
    client: TestClient, db: Session, registered: RegisteredClient, aud: str
) -> None:
    form = token_form(registered.assertion(aud))
    assert client.post(TOKEN_PATH, data=form).status_code == 200
    record = _assert_refused(client.post(TOKEN_PATH, data=form), db)
    assert record.detail["reason"] == "replayed-jti"
    assert record.subject == f"SystemClient/{registered.client_id}"
    assert record.organisation == str(registered.client.organisation_id)


def test_same_jti_in_a_new_assertion_is_refused(
    client: TestClient, db: Session, registered: RegisteredClient, aud: str
) -> None:
    first = registered.assertion(aud, jti="once")
    assert client.post(TOKEN_PATH, data=token_form(first)).status_code == 200
    kid = list(registered.keys)[1]
    second = registered.assertion(aud, jti="once", kid=kid)
    _assert_refused(client.post(TOKEN_PATH, data=token_form(second)), db)


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type"),
        ({"grant_type": ""}, "invalid_request"),
        ({"scope": ""}, "invalid_request"),
        ({"client_assertion": ""}, "invalid_request"),
    ],
)
def test_wrong_grant_or_missing_parameters(
    form: dict[str, str],
    error: str,
    client: TestClient,
    db: Session,
    registered: RegisteredClient,
    aud: str,
) -> None:
    response = client.post(TOKEN_PATH, data=token_form(registered.assertion(aud), **form))
    _assert_refused(response, db, error)


def test_malformed_requests_are_invalid_request(
    client: TestClient, db: Session, registered: RegisteredClient, aud: str
) -> None:
    form = token_form(registered.assertion(aud))
    _assert_refused(client.post(TOKEN_PATH, json=form), db, "invalid_request")
    encoded = "&".join(f"{k}={v}" for k, v in form.items()) + "&scope=system/*.*"
    duplicated = client.post(
        TOKEN_PATH,
        content=encoded,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _assert_refused(duplicated, db, "invalid_request")
    huge = client.post(TOKEN_PATH, data={**form, "client_assertion": "a" * 20_000})
    _assert_refused(huge, db, "invalid_request")
    _assert_refused(client.post(TOKEN_PATH), db, "invalid_request")


@pytest.mark.parametrize(
    "assertion",
    [
        "",
        "a.b.c",
        "....",
        "a.b",
        "éé.éé.éé",
        _b64(b"[1]") + "." + _b64(b"{}") + ".AA",
        _b64(b"not json") + "." + _b64(b"{}") + ".AA",
        _b64(b'{"alg":"ES384","kid":"k"}') + "." + _b64(b"[]") + ".AA",
        _b64(b'{"alg":"ES384","kid":"k"}') + "." + _b64(b'{"iss":["x"]}') + ".AA",
        _b64(b'{"alg":"ES384","kid":"k"}') + "." + _b64(b'{"iss":"' + b"[" * 5000 + b'"}') + ".AA",
        _b64(b'{"alg":["ES384"],"kid":{}}') + "." + _b64(b"{}") + ".AA",
        _b64(b'{"alg":"ES384","kid":1}') + "." + _b64(b"{}") + ".AA",
        "%00.%00.%00",
    ],
)
def test_garbage_assertions_never_cause_a_500(
    assertion: str, client: TestClient, db: Session, registered: RegisteredClient
) -> None:
    response = client.post(TOKEN_PATH, data=token_form(assertion))
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_client", "invalid_request")


def test_garbage_claims_of_a_signed_assertion_never_cause_a_500(
    client: TestClient, db: Session, registered: RegisteredClient, aud: str
) -> None:
    for claims in (
        {"exp": 1e400},
        {"exp": True},
        {"iat": "now"},
        {"nbf": int(time.time()) + 3600},
        {"jti": 42},
        {"jti": "j" * 300},
        {"aud": None},
    ):
        response = client.post(TOKEN_PATH, data=token_form(registered.assertion(aud, **claims)))
        assert response.status_code == 401, claims
        assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("alg", ["RS384", "ES384", "EdDSA"])
def test_valid_assertion_of_each_algorithm_gets_a_token(
    alg: str, client: TestClient, db: Session, aud: str
) -> None:
    rc = make_client(db, make_organisation(db), algs=(alg,))
    response = client.post(TOKEN_PATH, data=token_form(rc.assertion(aud)))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "system/Task.rs"
    assert len(body["access_token"]) >= 43
    caller = service.caller_for_access_token(db, body["access_token"])
    assert caller.id == rc.client.id
    assert caller.organisation_id == rc.client.organisation_id
    assert caller.scopes == frozenset({"system/Task.rs"})
    record = _last_token_audit(db)
    assert record.outcome == "success"
    assert record.actor == f"client:{rc.client_id}"
    assert body["access_token"] not in json.dumps(record.detail)


def test_assertion_exactly_five_minutes_ahead_and_aud_as_list_are_accepted(
    client: TestClient, registered: RegisteredClient, aud: str
) -> None:
    assertion = registered.assertion(aud, exp=int(time.time()) + 300, aud=[aud], iat=None)
    assert client.post(TOKEN_PATH, data=token_form(assertion)).status_code == 200


def test_granted_scope_is_requested_within_allowed(
    client: TestClient, db: Session, registered: RegisteredClient, aud: str
) -> None:
    scope = "system/ServiceRequest.rs system/Task.cruds system/Patient.r openid"
    response = client.post(TOKEN_PATH, data=token_form(registered.assertion(aud), scope=scope))
    assert response.status_code == 200
    assert response.json()["scope"] == "system/ServiceRequest.rs"
    refused = client.post(
        TOKEN_PATH, data=token_form(registered.assertion(aud), scope="system/*.read")
    )
    record = _assert_refused(refused, db, "invalid_scope")
    assert record.detail["reason"] == "no-grantable-scope"


def test_key_rotation_without_downtime(
    client: TestClient, db: Session, registered: RegisteredClient, aud: str
) -> None:
    old_kid, new_kid = list(registered.keys)
    for kid in (old_kid, new_kid):
        response = client.post(TOKEN_PATH, data=token_form(registered.assertion(aud, kid=kid)))
        assert response.status_code == 200, kid
    admin = org_admin(registered.client.organisation_id)
    service.revoke_key(db, admin, client_id=registered.client.id, kid=old_kid)
    old = client.post(TOKEN_PATH, data=token_form(registered.assertion(aud, kid=old_kid)))
    _assert_refused(old, db)
    new = client.post(TOKEN_PATH, data=token_form(registered.assertion(aud, kid=new_kid)))
    assert new.status_code == 200


# jwcrypto 1.6 warns (empty message) about its own deprecated JWTMissingKeyID class.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_assertion_built_with_jwcrypto_is_accepted(
    client: TestClient, db: Session, aud: str
) -> None:
    org = make_organisation(db)
    results = []
    for params, alg in (
        ({"kty": "EC", "crv": "P-384"}, "ES384"),
        ({"kty": "OKP", "crv": "Ed25519"}, "EdDSA"),
        ({"kty": "RSA", "size": 2048}, "RS384"),
    ):
        key = jwcrypto_jwk.JWK.generate(kid=f"jwcrypto-{alg}", **params)
        registered = service.register_client(
            db,
            org_admin(org),
            organisation_id=org.id,
            name=f"jwcrypto {alg}",
            jwks={"keys": [json.loads(key.export_public())]},
            allowed_scopes=["system/*.read"],
        )
        now = int(time.time())
        token = jwcrypto_jwt.JWT(
            header={"alg": alg, "kid": key.key_id, "typ": "JWT"},
            claims={
                "iss": str(registered.id),
                "sub": str(registered.id),
                "aud": aud,
                "exp": now + 300,
                "iat": now,
                "jti": str(uuid.uuid4()),
            },
        )
        token.make_signed_token(key)
        form = token_form(token.serialize(), scope="system/*.read")
        results.append(client.post(TOKEN_PATH, data=form).status_code)
    assert results == [200, 200, 200]


def test_smart_configuration_advertises_backend_services(client: TestClient, aud: str) -> None:
    response = client.get("/.well-known/smart-configuration")
    assert response.status_code == 200
    body = response.json()
    assert body["token_endpoint"] == aud
    assert body["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert body["token_endpoint_auth_signing_alg_values_supported"] == ["RS384", "ES384", "EdDSA"]
    assert body["grant_types_supported"] == ["client_credentials"]
    assert "client-confidential-asymmetric" in body["capabilities"]
    assert "system/*.read" in body["scopes_supported"]
