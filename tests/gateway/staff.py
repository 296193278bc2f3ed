"""Staff fixtures: organisations, accounts, signed-in HTTP clients (see gateway/conftest)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gateway.auth import credentials
from gateway.auth.models import Organisation, OrgStatus, User
from kernel.caller import Role

PASSWORD = "correct horse battery staple"
STEP = 30  # seconds of one TOTP time step


@dataclass
class Account:
    user: User
    org: Organisation
    password: str
    totp_secret: str | None

    def code(self) -> str:
        """A code the hub accepts now. The hub takes each code once (it keeps the time step
        of the last one accepted) and also the next step's code (clock drift): so the
        current step's code, else the next one's, else wait for the clock to move on."""
        assert self.totp_secret is not None
        while True:
            used, now = self.user.totp_last_step, time.time()
            step = int(now) // STEP
            for ahead in (0, 1):
                if used is None or step + ahead > used:
                    return credentials.totp_code(self.totp_secret, now=now + ahead * STEP)
            time.sleep((step + 1) * STEP - now + 0.05)


MakeOrg = Callable[..., Organisation]
MakeAccount = Callable[..., Account]


@pytest.fixture
def make_org(db: Session) -> MakeOrg:
    def make(
        name: str | None = None,
        status: OrgStatus = OrgStatus.ACTIVE,
        org_type: str = "resettlement_ngo",
    ) -> Organisation:
        org = Organisation(
            name=name or f"Org {uuid.uuid4().hex[:8]}",
            org_type=org_type,
            status=status.value,
            contact_email="office@example.org",
        )
        db.add(org)
        db.flush()
        return org

    return make


@pytest.fixture
def make_account(db: Session, make_org: MakeOrg) -> MakeAccount:
    def make(
        org: Organisation | None = None,
        roles: tuple[Role, ...] = (Role.CASE_WORKER,),
        totp: bool = True,
        team: str | None = None,
    ) -> Account:
        org = org or make_org()
        secret = credentials.new_totp_secret() if totp else None
        user = User(
            organisation_id=org.id,
            email=f"{uuid.uuid4().hex[:10]}@example.org",
            display_name="Test User",
            roles=[r.value for r in roles],
            team=team,
            password_hash=credentials.hash_password(PASSWORD),
            totp_secret=secret,
            totp_enabled=totp,
        )
        db.add(user)
        db.flush()
        return Account(user=user, org=org, password=PASSWORD, totp_secret=secret)

    return make


class StaffClient:
    """A browser-like client for one account: cookie jar plus the session's CSRF token."""

    def __init__(self, app: FastAPI, base_url: str = "http://testserver") -> None:
        self.http = TestClient(app, base_url=base_url, raise_server_exceptions=False)
        self.csrf = ""

    def login(self, account: Account, *, with_code: bool = True) -> str:
        response = self.http.post(
            "/auth/login", json={"email": account.user.email, "password": account.password}
        )
        assert response.status_code == 200, response.text
        self.csrf = response.json()["csrf_token"]
        step = str(response.json()["next_step"])
        if step == "totp" and with_code:
            step = self.post("/auth/login/totp", json={"code": account.code()}).json()["next_step"]
        return step

    def _headers(self, kwargs: dict[str, Any]) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.post(url, headers=self._headers(kwargs), **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.patch(url, headers=self._headers(kwargs), **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.put(url, headers=self._headers(kwargs), **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(url, **kwargs)


@pytest.fixture
def staff_client(app: FastAPI) -> Callable[[Account], StaffClient]:
    def signed_in(account: Account) -> StaffClient:
        client = StaffClient(app)
        assert client.login(account) == "done"
        return client

    return signed_in
