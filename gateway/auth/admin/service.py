"""Rules for administering organisations and staff.

Organisation scope lives here, in `visible_organisations`: hub admins see every
organisation, everyone else only their own. Anything outside that scope is "not found",
so a caller never learns that another organisation's records exist.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from gateway.auth import credentials
from gateway.auth import service as auth_service
from gateway.auth.admin import schemas
from gateway.auth.errors import Forbidden, InvalidInput, NotFoundForCaller, TransitionRefused
from gateway.auth.models import Organisation, OrgStatus, StaffSession, User
from kernel import audit
from kernel.caller import Caller, Role

__all__ = [
    "EmailTaken",
    "OwnAdminRole",
    "apply",
    "change_status",
    "create_user",
    "get_organisation",
    "get_user",
    "last_sign_ins",
    "list_organisations",
    "list_users",
    "require_password_change",
    "reset_password",
    "reset_second_factor",
    "revoke_user_sessions",
    "update_user",
    "visible_organisations",
]


class EmailTaken(InvalidInput):
    """Another account (of any organisation) already signs in with that email address."""

    code = "email-taken"


class OwnAdminRole(InvalidInput):
    """An org admin tried to take the org_admin role away from their own account."""

    code = "own-admin-role"


# from-status -> to-status -> the action's name
_TRANSITIONS = {
    OrgStatus.APPLIED: {OrgStatus.ACTIVE: "approve", OrgStatus.REJECTED: "reject"},
    OrgStatus.ACTIVE: {OrgStatus.SUSPENDED: "suspend"},
    OrgStatus.SUSPENDED: {OrgStatus.ACTIVE: "reactivate"},
}


def visible_organisations(caller: Caller) -> Select[Organisation]:
    """Every organisation query starts here."""
    query = select(Organisation)
    if not caller.is_hub_admin:
        query = query.where(Organisation.id == caller.organisation_id)
    return query


def _audit(
    session: Session,
    caller: Caller | None,
    action: str,
    subject: str,
    organisation: uuid.UUID,
    **detail: str | int | bool | None,
) -> None:
    audit.record(
        session,
        actor=caller.actor if caller else "anonymous",
        action=action,
        organisation=str(organisation),
        subject=subject,
        detail=detail,
    )


def get_organisation(session: Session, caller: Caller, org_id: uuid.UUID) -> Organisation:
    org = session.scalars(visible_organisations(caller).where(Organisation.id == org_id)).first()
    if org is None:
        raise NotFoundForCaller("No such organisation.")
    return org


def _administrable(session: Session, caller: Caller, org_id: uuid.UUID) -> Organisation:
    """The organisation if the caller administers it (its org admin, or a hub admin)."""
    org = get_organisation(session, caller, org_id)
    if not (caller.is_hub_admin or caller.has_role(Role.ORG_ADMIN)):
        raise Forbidden("Only an org admin or a hub admin may do this.")
    return org


def list_organisations(
    session: Session, caller: Caller, *, status: OrgStatus | None = None
) -> Sequence[Organisation]:
    query = visible_organisations(caller).order_by(Organisation.name)
    if status is not None:
        query = query.where(Organisation.status == status)
    return session.scalars(query).all()


def _check_password(password: str, email: str) -> None:
    problem = credentials.password_problem(password, email=email)
    if problem:
        raise InvalidInput(f"The password {problem}.")


def _email_free(session: Session, email: str) -> None:
    taken = session.scalar(select(func.count()).where(func.lower(User.email) == email.lower()))
    if taken:
        raise EmailTaken("That email address already has an account.")


def apply(session: Session, body: schemas.ApplicationIn) -> Organisation:
    """An organisation applies to join; it and its first admin wait for a hub admin."""
    if session.scalar(select(func.count()).where(Organisation.name == body.name)):
        raise InvalidInput("An organisation of that name has already applied or joined.")
    _email_free(session, body.admin.email)
    _check_password(body.admin.password, body.admin.email)
    org = Organisation(
        name=body.name,
        org_type=body.org_type,
        status=OrgStatus.APPLIED,
        contact_email=body.contact_email,
        contact_phone=body.contact_phone,
    )
    session.add(org)
    session.flush()
    admin = User(
        organisation_id=org.id,
        email=body.admin.email.lower(),
        display_name=body.admin.display_name,
        roles=[Role.ORG_ADMIN.value],
        password_hash=credentials.hash_password(body.admin.password),
    )
    session.add(admin)
    session.flush()
    _audit(session, None, "organisation.apply", f"Organization/{org.id}", org.id)
    return org


def change_status(
    session: Session, caller: Caller, org_id: uuid.UUID, *, to: OrgStatus, reason: str | None
) -> Organisation:
    """approve / reject / suspend / reactivate (hub admins only). Suspension ends every
    session and token of the organisation at once (they are checked on each request)."""
    if not caller.is_hub_admin:
        get_organisation(session, caller, org_id)
        raise Forbidden("Only a hub admin may change an organisation's membership.")
    org = get_organisation(session, caller, org_id)
    action = _TRANSITIONS.get(OrgStatus(org.status), {}).get(to)
    if action is None:
        allowed = sorted(_TRANSITIONS.get(OrgStatus(org.status), {}))
        raise TransitionRefused(f"From {org.status} the organisation can go to: {allowed}.")
    if to in (OrgStatus.SUSPENDED, OrgStatus.REJECTED) and not reason:
        raise InvalidInput("A reason is required to suspend or reject.")
    if org.id == caller.organisation_id and to == OrgStatus.SUSPENDED:
        raise InvalidInput("A hub admin cannot suspend their own organisation.")
    org.status, org.status_reason = to.value, reason
    _audit(session, caller, f"organisation.{action}", f"Organization/{org.id}", org.id)
    return org


def _visible_users(caller: Caller) -> Select[User]:
    query = select(User)
    if not caller.is_hub_admin:
        query = query.where(User.organisation_id == caller.organisation_id)
    return query


def get_user(session: Session, caller: Caller, user_id: uuid.UUID) -> User:
    """A user the caller may administer (org admin of the user's org, or hub admin)."""
    user = session.scalars(_visible_users(caller).where(User.id == user_id)).first()
    if user is None:
        raise NotFoundForCaller("No such user.")
    _administrable(session, caller, user.organisation_id)
    return user


def list_users(session: Session, caller: Caller, org_id: uuid.UUID) -> Sequence[User]:
    _administrable(session, caller, org_id)
    return session.scalars(
        _visible_users(caller).where(User.organisation_id == org_id).order_by(User.email)
    ).all()


def _check_roles(caller: Caller, roles: list[Role], user: User) -> None:
    if Role.HUB_ADMIN in roles and not caller.is_hub_admin:
        raise Forbidden("Only a hub admin may grant hub_admin.")
    if not roles:
        raise InvalidInput("A user needs at least one role.")
    if set(roles) & auth_service.ADMIN_ROLES and not user.mfa_required:
        user.mfa_required = True  # admins always need the second factor


def create_user(
    session: Session, caller: Caller, org_id: uuid.UUID, body: schemas.UserIn
) -> tuple[User, str]:
    """Create a staff account with a temporary password (returned once)."""
    _administrable(session, caller, org_id)
    _email_free(session, body.email)
    temporary = credentials.temporary_password()
    user = User(
        organisation_id=org_id,
        email=body.email.lower(),
        display_name=body.display_name,
        roles=[r.value for r in body.roles],
        team=body.team,
        password_hash=credentials.hash_password(temporary),
        must_change_password=True,
        mfa_required=True,
    )
    _check_roles(caller, body.roles, user)
    session.add(user)
    session.flush()
    _audit(session, caller, "user.create", f"User/{user.id}", org_id)
    return user, temporary


def update_user(
    session: Session, caller: Caller, user_id: uuid.UUID, body: schemas.UserUpdate
) -> User:
    user = get_user(session, caller, user_id)
    if body.roles is not None:
        _check_roles(caller, body.roles, user)
        if (
            user.id == caller.id
            and Role.ORG_ADMIN.value in user.roles
            and Role.ORG_ADMIN not in body.roles
            and not caller.is_hub_admin
        ):
            raise OwnAdminRole(
                "You cannot remove the org admin role from your own account; "
                "ask another org admin of your organisation."
            )
        user.roles = [r.value for r in body.roles]
    if body.team is not None:
        user.team = body.team or None
    if body.mfa_required is not None:
        if not body.mfa_required and set(user.roles) & auth_service.ADMIN_ROLES:
            raise InvalidInput("The second factor cannot be switched off for admins.")
        user.mfa_required = body.mfa_required
    if body.active is not None:
        if not body.active and user.id == caller.id:
            raise InvalidInput("You cannot deactivate your own account.")
        user.active = body.active
        if not body.active:
            auth_service.revoke_sessions(session, user.id)
    _audit(session, caller, "user.update", f"User/{user.id}", user.organisation_id)
    return user


def reset_password(session: Session, caller: Caller, user_id: uuid.UUID) -> str:
    """Set a temporary password (returned once), unlock, end sessions, and reset the
    authenticator so the user enrols again."""
    user = get_user(session, caller, user_id)
    temporary = credentials.temporary_password()
    user.password_hash = credentials.hash_password(temporary)
    user.must_change_password = True
    user.failed_logins, user.totp_failures, user.locked_until = 0, 0, None
    user.totp_enabled, user.totp_secret, user.totp_last_step = False, None, None
    auth_service.revoke_sessions(session, user.id)
    _audit(session, caller, "user.password_reset", f"User/{user.id}", user.organisation_id)
    return temporary


def revoke_user_sessions(session: Session, caller: Caller, user_id: uuid.UUID) -> int:
    user = get_user(session, caller, user_id)
    count = auth_service.revoke_sessions(session, user.id)
    _audit(
        session,
        caller,
        "user.sessions_revoked",
        f"User/{user.id}",
        user.organisation_id,
        count=count,
    )
    return count


def reset_second_factor(session: Session, caller: Caller, user_id: uuid.UUID) -> User:
    """Forget a user's authenticator: they enrol a new one at their next sign-in (their
    password stays). Their sessions end, so nobody stays signed in on the lost device."""
    user = get_user(session, caller, user_id)
    user.totp_enabled, user.totp_secret, user.totp_last_step = False, None, None
    user.totp_failures = 0
    auth_service.revoke_sessions(session, user.id)
    _audit(session, caller, "user.mfa_reset", f"User/{user.id}", user.organisation_id)
    return user


def require_password_change(session: Session, caller: Caller, user_id: uuid.UUID) -> User:
    """Make a user choose a new password at their next sign-in (their current one still
    lets them in to do so); their sessions end now."""
    user = get_user(session, caller, user_id)
    user.must_change_password = True
    auth_service.revoke_sessions(session, user.id)
    _audit(
        session, caller, "user.password_change_required", f"User/{user.id}", user.organisation_id
    )
    return user


def last_sign_ins(
    session: Session, caller: Caller, org_id: uuid.UUID
) -> dict[uuid.UUID, dt.datetime]:
    """When each user of the organisation last signed in completely (the newest session
    that passed the second factor, or needed none); users who never did are left out."""
    _administrable(session, caller, org_id)
    rows = session.execute(
        select(StaffSession.user_id, func.max(StaffSession.created_at))
        .join(User, User.id == StaffSession.user_id)
        .where(User.organisation_id == org_id, StaffSession.mfa_passed.is_(True))
        .group_by(StaffSession.user_id)
    )
    return {user_id: when for user_id, when in rows if when is not None}
