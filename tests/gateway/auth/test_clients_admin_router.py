"""The admin router for system clients builds with any caller dependency (wired later)."""

from __future__ import annotations

import uuid

from fastapi import FastAPI

from gateway.auth.clients.admin_router import make_admin_router
from kernel.caller import Caller, CallerKind


def _caller() -> Caller:
    return Caller(kind=CallerKind.USER, id=uuid.uuid4(), organisation_id=uuid.uuid4())


def test_admin_router_declares_its_routes() -> None:
    app = FastAPI()
    app.include_router(make_admin_router(_caller))
    paths = app.openapi()["paths"]
    assert set(paths) == {
        "/admin/organisations/{organisation_id}/clients",
        "/admin/clients/{client_id}",
        "/admin/clients/{client_id}/revoke",
        "/admin/clients/{client_id}/keys",
        "/admin/clients/{client_id}/keys/{kid}/revoke",
    }
    register = paths["/admin/organisations/{organisation_id}/clients"]["post"]
    assert {"201", "403", "404", "422"} <= set(register["responses"])
