"""Factories for consent tests: callers, clients and consents on the real database."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from adapters import DataCategory
from consent import clients, service, vault
from consent.models import Client, ConsentRecord, GrantMethod, ProvisionKind, Purpose
from consent.schemas import ConsentCreate, GrantorIn, IdentityIn, ProvisionIn, RecipientIn
from consent.standard_codes import ACT_CODE
from kernel.caller import Caller, CallerKind, Role
from kernel.db import utcnow
from kernel.settings import get_settings


def ensure_kek() -> None:
    """The run's KEK file (the shared data dir only has the audit key)."""
    vault.generate_kek_file(get_settings().kek_path)


def staff(org_id: uuid.UUID | None = None, *roles: Role) -> Caller:
    return Caller(
        kind=CallerKind.USER,
        id=uuid.uuid4(),
        organisation_id=org_id or uuid.uuid4(),
        roles=frozenset(roles or (Role.CASE_WORKER,)),
    )


def make_client(
    db: Session,
    caller: Caller,
    *,
    name: str = "Amal Haddad",
    birth_date: str | None = "1988-04-02",
    language: str = "en",
) -> Client:
    ensure_kek()
    identity = IdentityIn.model_validate(
        {"name": name, "birth_date": birth_date, "preferred_language": language}
    )
    return clients.register_client(db, caller, identity=identity)


def permit(
    *,
    org: uuid.UUID | None = None,
    org_type: str | None = None,
    purposes: Sequence[Purpose] = (Purpose.REFERRAL,),
    categories: Sequence[DataCategory] = (DataCategory.IDENTITY, DataCategory.NEEDS),
    kind: ProvisionKind = ProvisionKind.PERMIT,
    **extra: Any,
) -> ProvisionIn:
    recipients = []
    if org is not None:
        recipients.append(RecipientIn(organisation_id=org))
    if org_type is not None:
        recipients.append(RecipientIn.model_validate({"organisation_type": org_type}))
    return ProvisionIn(
        kind=kind,
        recipients=recipients,
        purposes=list(purposes),
        categories=list(categories),
        **extra,
    )


def deny(**kwargs: Any) -> ProvisionIn:
    kwargs.setdefault("purposes", ())
    return permit(kind=ProvisionKind.DENY, **kwargs)


def draft(*provisions: ProvisionIn, days: float | None = 30, **extra: Any) -> ConsentCreate:
    values: dict[str, Any] = {
        "grantor": GrantorIn(relationship="self"),  # type: ignore[arg-type]
        "method": GrantMethod.WRITTEN,
        "provisions": list(provisions),
    }
    if days is not None:
        start = utcnow() - dt.timedelta(minutes=1)
        values["period_start"] = start
        values["period_end"] = start + dt.timedelta(days=days)
    values.update(extra)
    return ConsentCreate(**values)


def grant(
    db: Session, caller: Caller, client: Client, *provisions: ProvisionIn, **extra: Any
) -> ConsentRecord:
    return service.create_consent(
        db, caller, client_id=client.id, draft=draft(*provisions, **extra)
    )


def isolation_ids(db: Session, org_id: uuid.UUID) -> dict[str, Any]:
    """A client and consent of organisation `org_id`, for the route-walking isolation test
    (`version`: the version both have, for the FHIR vread routes)."""
    owner = staff(org_id, Role.CASE_WORKER)
    client = make_client(db, owner)
    record = grant(db, owner, client, permit(org=org_id))
    return {
        "person_id": client.id,
        "consent_id": record.series_id,
        "record_id": record.id,
        "version": 1,
    }


CONSENT_BODY: dict[str, Any] = {
    "grantor": {"relationship": "self"},
    "method": "written",
    "provisions": [
        {
            "recipients": [{"organisation_type": "child_protection"}],
            "purposes": ["referral"],
            "categories": ["identity"],
        }
    ],
}


def fhir_consent(patient: str, provision: dict[str, Any], **members: Any) -> dict[str, Any]:
    """An R4 Consent as an agency's system posts it: patient-privacy, IDSCL, opt-in, given
    by the client (`patient`, e.g. `Patient/<id>`) themself; `provision` and any other
    members (`organization`, ...) as the test needs."""
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": ACT_CODE, "code": "IDSCL"}]}],
        "patient": {"reference": patient},
        "performer": [{"reference": patient}],
        "policyRule": {"coding": [{"system": ACT_CODE, "code": "OPTIN"}]},
        "provision": provision,
        **members,
    }
