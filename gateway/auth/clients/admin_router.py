"""Admin routes for system clients and their keys (hub_admin, or org_admin of the org).

Built by `make_admin_router(caller_dependency)` so the composition root wires in the one
authorization dependency; the services decide who may do what.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends

from gateway.auth.clients import service
from gateway.auth.clients.schemas import ClientCreate, ClientRead, KeyCreate, KeyRead
from gateway.dependencies import DbSession
from kernel.caller import Caller

__all__ = ["make_admin_router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Needs org_admin of the organisation"},
    404: {"description": "No such organisation, client or key (or not yours)"},
}


def make_admin_router(caller_dependency: Callable[..., Caller]) -> APIRouter:
    """The admin router, authenticated by `caller_dependency` (every route needs a caller)."""
    router = APIRouter(prefix="/admin", tags=["admin: system clients"], responses=_ERRORS)
    # A default, not an Annotated alias: annotations are strings here (PEP 563) and a local
    # alias could not be resolved by FastAPI.
    current_caller = Depends(caller_dependency)

    @router.get("/organisations/{organisation_id}/clients", response_model=list[ClientRead])
    def list_clients(
        organisation_id: uuid.UUID, session: DbSession, caller: Caller = current_caller
    ) -> list[ClientRead]:
        rows = service.list_clients(session, caller, organisation_id=organisation_id)
        return [ClientRead.model_validate(row) for row in rows]

    @router.post(
        "/organisations/{organisation_id}/clients",
        response_model=ClientRead,
        status_code=201,
        responses={
            422: {
                "description": "A key, the JWKS URL or a scope is not acceptable, or both or "
                "neither of jwks and jwks_uri are given"
            }
        },
    )
    def register_client(
        organisation_id: uuid.UUID,
        body: ClientCreate,
        session: DbSession,
        caller: Caller = current_caller,
    ) -> ClientRead:
        client = service.register_client(
            session,
            caller,
            organisation_id=organisation_id,
            name=body.name,
            jwks=body.jwks,
            jwks_uri=body.jwks_uri,
            allowed_scopes=body.allowed_scopes,
        )
        return ClientRead.model_validate(client)

    @router.get("/clients/{client_id}", response_model=ClientRead)
    def get_client(
        client_id: uuid.UUID, session: DbSession, caller: Caller = current_caller
    ) -> ClientRead:
        return ClientRead.model_validate(service.get_client(session, caller, client_id=client_id))

    @router.post("/clients/{client_id}/revoke", response_model=ClientRead)
    def revoke_client(
        client_id: uuid.UUID, session: DbSession, caller: Caller = current_caller
    ) -> ClientRead:
        client = service.revoke_client(session, caller, client_id=client_id)
        return ClientRead.model_validate(client)

    @router.get("/clients/{client_id}/keys", response_model=list[KeyRead])
    def list_keys(
        client_id: uuid.UUID, session: DbSession, caller: Caller = current_caller
    ) -> list[KeyRead]:
        rows = service.list_keys(session, caller, client_id=client_id)
        return [KeyRead.model_validate(row) for row in rows]

    @router.post(
        "/clients/{client_id}/keys",
        response_model=KeyRead,
        status_code=201,
        responses={
            409: {
                "description": "Duplicate kid, revoked client, or a client whose keys are "
                "fetched from its JWKS URL"
            }
        },
    )
    def add_key(
        client_id: uuid.UUID, body: KeyCreate, session: DbSession, caller: Caller = current_caller
    ) -> KeyRead:
        key = service.add_key(session, caller, client_id=client_id, jwk=body.jwk)
        return KeyRead.model_validate(key)

    @router.post("/clients/{client_id}/keys/{kid}/revoke", response_model=KeyRead)
    def revoke_key(
        client_id: uuid.UUID, kid: str, session: DbSession, caller: Caller = current_caller
    ) -> KeyRead:
        key = service.revoke_key(session, caller, client_id=client_id, kid=kid)
        return KeyRead.model_validate(key)

    return router
