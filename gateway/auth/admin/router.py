"""Administration over HTTP: organisations join, are approved or suspended; staff accounts.

`POST /admin/organisations/applications` is public on purpose (an organisation applies
before it has any account); the application waits, inert, for a hub admin.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from gateway.auth.admin import schemas
from gateway.auth.admin import service as admin_service
from gateway.auth.dependencies import CurrentCaller
from gateway.auth.models import OrgStatus
from gateway.dependencies import DbSession
from gateway.errors import error_responses

__all__ = ["router"]

router = APIRouter(prefix="/admin", tags=["administration"])
_ERRORS = error_responses(401, 403, 404, 422)
_ACTIONS = {
    "approve": OrgStatus.ACTIVE,
    "reject": OrgStatus.REJECTED,
    "suspend": OrgStatus.SUSPENDED,
    "reactivate": OrgStatus.ACTIVE,
}


@router.post(
    "/organisations/applications",
    status_code=201,
    response_model=schemas.OrganisationOut,
    responses=error_responses(422),
)
def apply(body: schemas.ApplicationIn, session: DbSession) -> schemas.OrganisationOut:
    """Apply to join the network (public). The organisation and its first admin account
    stay inactive until a hub admin approves."""
    return schemas.OrganisationOut.model_validate(admin_service.apply(session, body))


@router.get("/organisations", response_model=list[schemas.OrganisationOut], responses=_ERRORS)
def list_organisations(
    caller: CurrentCaller, session: DbSession, status: OrgStatus | None = None
) -> list[schemas.OrganisationOut]:
    """Organisations you may see: all for hub admins, your own otherwise."""
    orgs = admin_service.list_organisations(session, caller, status=status)
    return [schemas.OrganisationOut.model_validate(org) for org in orgs]


@router.get("/organisations/{org_id}", response_model=schemas.OrganisationOut, responses=_ERRORS)
def get_organisation(
    org_id: uuid.UUID, caller: CurrentCaller, session: DbSession
) -> schemas.OrganisationOut:
    return schemas.OrganisationOut.model_validate(
        admin_service.get_organisation(session, caller, org_id)
    )


def _status_route(action: str, target: OrgStatus) -> None:
    def change(
        org_id: uuid.UUID,
        body: schemas.StatusChangeIn,
        caller: CurrentCaller,
        session: DbSession,
    ) -> schemas.OrganisationOut:
        org = admin_service.change_status(session, caller, org_id, to=target, reason=body.reason)
        return schemas.OrganisationOut.model_validate(org)

    change.__doc__ = f"{action.capitalize()} an organisation (hub admins)."
    router.add_api_route(
        f"/organisations/{{org_id}}/{action}",
        change,
        methods=["POST"],
        response_model=schemas.OrganisationOut,
        responses=error_responses(401, 403, 404, 409, 422),
        name=f"{action}_organisation",
    )


for _action, _target in _ACTIONS.items():
    _status_route(_action, _target)


@router.get(
    "/organisations/{org_id}/users", response_model=list[schemas.UserOut], responses=_ERRORS
)
def list_users(
    org_id: uuid.UUID, caller: CurrentCaller, session: DbSession
) -> list[schemas.UserOut]:
    return [
        schemas.UserOut.model_validate(u) for u in admin_service.list_users(session, caller, org_id)
    ]


@router.post(
    "/organisations/{org_id}/users",
    status_code=201,
    response_model=schemas.UserCreatedOut,
    responses=_ERRORS,
)
def create_user(
    org_id: uuid.UUID, body: schemas.UserIn, caller: CurrentCaller, session: DbSession
) -> schemas.UserCreatedOut:
    """Create a staff account; the temporary password is shown once."""
    user, temporary = admin_service.create_user(session, caller, org_id, body)
    return schemas.UserCreatedOut(
        user=schemas.UserOut.model_validate(user), temporary_password=temporary
    )


@router.get("/users/{user_id}", response_model=schemas.UserOut, responses=_ERRORS)
def get_user(user_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> schemas.UserOut:
    return schemas.UserOut.model_validate(admin_service.get_user(session, caller, user_id))


@router.patch("/users/{user_id}", response_model=schemas.UserOut, responses=_ERRORS)
def update_user(
    user_id: uuid.UUID, body: schemas.UserUpdate, caller: CurrentCaller, session: DbSession
) -> schemas.UserOut:
    """Change roles, team, second-factor requirement (never off for admins) or activity."""
    user = admin_service.update_user(session, caller, user_id, body)
    return schemas.UserOut.model_validate(user)


@router.post(
    "/users/{user_id}/password-reset",
    response_model=schemas.TemporaryPasswordOut,
    responses=_ERRORS,
)
def reset_password(
    user_id: uuid.UUID, caller: CurrentCaller, session: DbSession
) -> schemas.TemporaryPasswordOut:
    """Reset a user's password and authenticator; ends their sessions."""
    return schemas.TemporaryPasswordOut(
        temporary_password=admin_service.reset_password(session, caller, user_id)
    )


@router.post("/users/{user_id}/sessions/revoke", status_code=204, responses=_ERRORS)
def revoke_sessions(user_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> Response:
    """End every session of a user at once."""
    admin_service.revoke_user_sessions(session, caller, user_id)
    return Response(status_code=204)
