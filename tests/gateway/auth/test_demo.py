"""`refhub demo`: a newcomer can sign in as staff and as a system client at once."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import OKPKey
from sqlalchemy.orm import Session

from gateway.auth import credentials
from gateway.auth import demo as auth_demo
from gateway.demo import load_demo
from kernel.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")


def test_demo_is_idempotent_and_usable(
    app: FastAPI, db: Session, settings: Settings, tmp_path: Path
) -> None:
    local = settings.model_copy(update={"data_dir": tmp_path})
    first = load_demo(db, local)
    second = load_demo(db, local)
    assert len(first) == len(second)
    key_file = tmp_path / "demo-clients" / "northside.json"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"

    http = TestClient(app)
    email = "caseworker@northside.demo.refhub.org"
    login = http.post("/auth/login", json={"email": email, "password": auth_demo.DEMO_PASSWORD})
    assert login.json()["next_step"] == "totp"
    code = credentials.totp_code(auth_demo.demo_totp_secret(email))
    assert (
        http.post(
            "/auth/login/totp",
            json={"code": code},
            headers={"X-CSRF-Token": login.json()["csrf_token"]},
        ).status_code
        == 200
    )
    staff_org = http.get("/auth/me").json()["organisation_id"]

    demo_client = json.loads(key_file.read_text())
    key = OKPKey.import_key(demo_client["jwk"])
    now = int(time.time())
    assertion = jwt.encode(
        {"alg": "EdDSA", "kid": demo_client["jwk"]["kid"]},
        {
            "iss": demo_client["client_id"],
            "sub": demo_client["client_id"],
            "aud": f"{settings.public_base_url}/auth/token",
            "exp": now + 240,
            "jti": uuid.uuid4().hex,
        },
        key,
        algorithms=["EdDSA"],
    )
    token = TestClient(app).post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": demo_client["scope"],
        },
    )
    assert token.status_code == 200, token.text
    me = (
        TestClient(app)
        .get("/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        .json()
    )
    assert me["kind"] == "client"
    assert me["organisation_id"] == staff_org
    assert me["scopes"] == ["system/*.cruds"]
