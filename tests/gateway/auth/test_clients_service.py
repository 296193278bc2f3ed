"""System-client services: who may register and rotate, audit of every change, and what a
bearer token is worth once its client, key or organisation stops acting."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.auth.clients import service, tasks, tokens
from gateway.auth.clients.errors import (
    ClientNotFound,
    ClientRevoked,
    DuplicateKey,
    Forbidden,
    InvalidKey,
    InvalidScopes,
    InvalidToken,
)
from gateway.auth.clients.models import AccessToken, UsedAssertion
from gateway.auth.clients.router import token_url
from gateway.auth.models import OrgStatus
from gateway.runtime import Runtime
from kernel.audit import AuditRecord
from kernel.caller import Caller, CallerKind, Role
from kernel.db import utcnow
from tests.gateway.auth.factories import (
    RegisteredClient,
    hub_admin,
    make_client,
    make_organisation,
    org_admin,
    private_key,
    public_jwk,
    staff_caller,
    token_form,
)

pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")


def _audits(db: Session, subject: str) -> list[AuditRecord]:
    db.commit()  # the chain is appended at commit (a savepoint of the test's transaction)
    return list(
        db.scalars(
            select(AuditRecord).where(AuditRecord.subject == subject).order_by(AuditRecord.seq)
        )
    )


def _jwks(*kids: str) -> dict[str, list[dict[str, str]]]:
    return {"keys": [public_jwk(private_key("EdDSA"), kid) for kid in kids]}


def _issue(db: Session, rc: RegisteredClient, runtime: Runtime, **kwargs: object) -> str:
    aud = token_url(runtime.settings)
    form = token_form(rc.assertion(aud))
    request = tokens.TokenRequest(**form)
    return tokens.issue_token(db, request=request, token_url=aud, **kwargs).access_token  # type: ignore[arg-type]


def test_org_admin_registers_a_client_and_it_is_audited(db: Session) -> None:
    org = make_organisation(db)
    admin = org_admin(org)
    client = service.register_client(
        db,
        admin,
        organisation_id=org.id,
        name=" Case system ",
        jwks=_jwks("a", "b"),
        allowed_scopes=["system/Task.rs", "system/Task.rs"],
    )
    assert client.name == "Case system"
    assert client.allowed_scopes == ["system/Task.rs"]
    assert [k.kid for k in service.list_keys(db, admin, client_id=client.id)] == ["a", "b"]
    assert service.list_clients(db, admin, organisation_id=org.id) == [client]
    (record,) = _audits(db, f"SystemClient/{client.id}")
    assert record.action == "auth.client.register"
    assert record.actor == admin.actor
    assert record.organisation == str(org.id)


def test_hub_admin_may_manage_any_organisation(db: Session) -> None:
    org, other = make_organisation(db), make_organisation(db)
    admin = hub_admin(other)
    client = service.register_client(
        db, admin, organisation_id=org.id, name="x", jwks=_jwks("a"), allowed_scopes=["system/*.*"]
    )
    assert service.revoke_client(db, admin, client_id=client.id).status == "revoked"
    with pytest.raises(ClientNotFound):
        service.list_clients(db, admin, organisation_id=uuid.uuid4())


def test_foreign_organisations_are_not_found_and_own_staff_are_forbidden(db: Session) -> None:
    org, other = make_organisation(db), make_organisation(db)
    rc = make_client(db, org)
    foreign_admin = org_admin(other)
    for call in (
        lambda c: service.list_clients(db, c, organisation_id=org.id),
        lambda c: service.list_keys(db, c, client_id=rc.client.id),
        lambda c: service.get_client(db, c, client_id=rc.client.id),
        lambda c: service.revoke_client(db, c, client_id=rc.client.id),
        lambda c: service.revoke_key(db, c, client_id=rc.client.id, kid=next(iter(rc.keys))),
        lambda c: service.add_key(
            db, c, client_id=rc.client.id, jwk=public_jwk(private_key("ES384"), "new")
        ),
        lambda c: service.register_client(
            db, c, organisation_id=org.id, name="x", jwks=_jwks("a"), allowed_scopes=["system/*.*"]
        ),
    ):
        with pytest.raises(ClientNotFound):
            call(foreign_admin)
        for own in (
            staff_caller(org, Role.CASE_WORKER, Role.SUPERVISOR),
            Caller(kind=CallerKind.CLIENT, id=rc.client.id, organisation_id=org.id),
        ):
            with pytest.raises(Forbidden):
                call(own)
    # Not-found looks the same whether or not the client exists.
    with pytest.raises(ClientNotFound):
        service.get_client(db, foreign_admin, client_id=uuid.uuid4())


def test_registration_refuses_bad_keys_and_scopes(db: Session) -> None:
    org = make_organisation(db)
    admin = org_admin(org)
    private = {**private_key("ES384").as_dict(private=True), "kid": "p"}

    def register(jwks: object, scopes: list[str]) -> None:
        service.register_client(
            db,
            admin,
            organisation_id=org.id,
            name="x",
            jwks=jwks,
            allowed_scopes=scopes,  # type: ignore[arg-type]
        )

    with pytest.raises(InvalidKey):
        register({"keys": [private]}, ["system/*.read"])
    with pytest.raises(InvalidScopes):
        register(_jwks("a"), ["patient/*.read"])
    with pytest.raises(InvalidScopes):
        register(_jwks("a"), [])
    assert service.list_clients(db, admin, organisation_id=org.id) == []


def test_key_rotation_rules(db: Session) -> None:
    org = make_organisation(db)
    admin = org_admin(org)
    rc = make_client(db, org)
    old_kid = next(iter(rc.keys))
    key = service.add_key(
        db, admin, client_id=rc.client.id, jwk=public_jwk(private_key("EdDSA"), "n")
    )
    assert key.alg == "EdDSA"
    with pytest.raises(DuplicateKey):
        service.add_key(
            db, admin, client_id=rc.client.id, jwk=public_jwk(private_key("EdDSA"), "n")
        )
    revoked = service.revoke_key(db, admin, client_id=rc.client.id, kid=old_kid)
    assert revoked.revoked_at is not None
    service.revoke_key(db, admin, client_id=rc.client.id, kid=old_kid)  # idempotent
    with pytest.raises(DuplicateKey):  # a revoked kid never comes back
        service.add_key(
            db, admin, client_id=rc.client.id, jwk=public_jwk(private_key("ES384"), old_kid)
        )
    with pytest.raises(ClientNotFound):
        service.revoke_key(db, admin, client_id=rc.client.id, kid="missing")
    actions = [r.action for r in _audits(db, f"SystemClient/{rc.client.id}")]
    assert actions == ["auth.client.register", "auth.client.key.add", "auth.client.key.revoke"]
    service.revoke_client(db, admin, client_id=rc.client.id)
    with pytest.raises(ClientRevoked):
        service.add_key(
            db, admin, client_id=rc.client.id, jwk=public_jwk(private_key("EdDSA"), "z")
        )


def test_token_works_until_client_revoked(db: Session, runtime: Runtime) -> None:
    org = make_organisation(db)
    rc = make_client(db, org)
    token = _issue(db, rc, runtime)
    caller = service.caller_for_access_token(db, token)
    assert caller.kind == CallerKind.CLIENT
    assert caller.id == rc.client.id
    assert caller.organisation_id == org.id
    assert caller.roles == frozenset()
    service.revoke_client(db, org_admin(org), client_id=rc.client.id)
    with pytest.raises(InvalidToken) as raised:
        service.caller_for_access_token(db, token)
    assert raised.value.status == 401
    assert raised.value.code == "invalid-token"


def test_token_stops_when_organisation_is_suspended(db: Session, runtime: Runtime) -> None:
    org = make_organisation(db)
    token = _issue(db, make_client(db, org), runtime)
    service.caller_for_access_token(db, token)
    org.status = OrgStatus.SUSPENDED.value
    db.flush()
    with pytest.raises(InvalidToken):
        service.caller_for_access_token(db, token)
    org.status = OrgStatus.ACTIVE.value
    db.flush()
    assert service.caller_for_access_token(db, token).organisation_id == org.id


def test_token_stops_when_its_key_is_revoked(db: Session, runtime: Runtime) -> None:
    org = make_organisation(db)
    rc = make_client(db, org, algs=("ES384", "EdDSA"))
    first, second = list(rc.keys)
    aud = token_url(runtime.settings)
    issued = {
        kid: tokens.issue_token(
            db, request=tokens.TokenRequest(**token_form(rc.assertion(aud, kid=kid))), token_url=aud
        ).access_token
        for kid in (first, second)
    }
    service.revoke_key(db, org_admin(org), client_id=rc.client.id, kid=first)
    with pytest.raises(InvalidToken):
        service.caller_for_access_token(db, issued[first])
    assert service.caller_for_access_token(db, issued[second]).id == rc.client.id


def test_token_expires_after_300_seconds(db: Session, runtime: Runtime) -> None:
    issued_at = utcnow()
    token = _issue(db, make_client(db, make_organisation(db)), runtime, now=issued_at)
    later = issued_at + dt.timedelta(seconds=299)
    assert service.caller_for_access_token(db, token, now=later)
    with pytest.raises(InvalidToken):
        service.caller_for_access_token(db, token, now=issued_at + dt.timedelta(seconds=300))
    row = db.scalars(select(AccessToken).where(AccessToken.token_hash == tokens.hash_token(token)))
    assert token not in str(row.one().__dict__)  # only the hash is stored


@pytest.mark.parametrize("token", ["", "x", "a" * 10_000])
def test_unknown_tokens_are_refused(db: Session, token: str) -> None:
    with pytest.raises(InvalidToken):
        service.caller_for_access_token(db, token)


def test_purge_removes_expired_replay_rows_and_tokens(db: Session, runtime: Runtime) -> None:
    rc = make_client(db, make_organisation(db))
    start = utcnow()
    token = _issue(db, rc, runtime, now=start)
    assert db.scalars(select(UsedAssertion).where(UsedAssertion.client_id == rc.client.id)).all()
    tasks.purge_expired(db, now=(start + dt.timedelta(seconds=30)).isoformat())
    assert db.scalars(select(UsedAssertion).where(UsedAssertion.client_id == rc.client.id)).all()
    tasks.purge_expired(db, now=(start + dt.timedelta(hours=2)).isoformat())
    assert not db.scalars(
        select(UsedAssertion).where(UsedAssertion.client_id == rc.client.id)
    ).all()
    assert not db.scalars(
        select(AccessToken).where(AccessToken.token_hash == tokens.hash_token(token))
    ).all()
