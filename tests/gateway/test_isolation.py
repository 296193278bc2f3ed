"""Walks every route of the OpenAPI document: anonymous callers are refused, and a caller
from another organisation can neither read, list, change nor learn of organisation A's
records. A new route fails this test until it is classified here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gateway.auth.models import Organisation
from gateway.workflow.models import Case
from kernel.caller import Role
from tests.consent.factories import CONSENT_BODY, isolation_ids
from tests.directory.factories import make_listing
from tests.gateway.auth.factories import (
    RegisteredClient,
    make_client,
    private_key,
    public_jwk,
    token_form,
)
from tests.gateway.delivery.factories import isolation_ids as delivery_isolation_ids
from tests.gateway.documents import document_of
from tests.gateway.staff import Account, MakeAccount, StaffClient
from tests.gateway.workflow.factories import workflow_isolation_ids

pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/fhir/metadata"),
    ("GET", "/.well-known/smart-configuration"),
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/auth/token"),
    ("POST", "/auth/login"),
    ("POST", "/admin/organisations/applications"),
    ("GET", "/convert/formats"),
    ("GET", "/convert/template.csv"),
    ("GET", "/convert/summary.schema.json"),
    # The directory is readable by all (what each caller sees is narrowed in
    # directory.access; Endpoint answers 401 to the public, see tests/directory).
    ("GET", "/directory/services"),
    ("GET", "/directory/services/{service_id}"),
    *(
        ("GET", f"/hsds{path}")
        for path in (
            "/",
            "/services",
            "/services/{id}",
            "/organizations",
            "/organizations/{id}",
            "/service_at_locations",
            "/service_at_locations/{id}",
            "/taxonomies",
            "/taxonomies/{id}",
            "/taxonomy_terms",
            "/taxonomy_terms/{id}",
        )
    ),
    *(
        ("GET", f"/fhir/{kind}{suffix}")
        for kind in ("HealthcareService", "Organization", "Location")
        for suffix in ("", "/{id}")
    ),
    # The client consent page: a link token, then the page's own session cookie.
    ("GET", "/consent/page"),
    ("GET", "/consent/page/open"),
    ("POST", "/consent/page/open"),
    ("POST", "/consent/page/revoke"),
    ("POST", "/consent/page/signout"),
    ("GET", "/consent/page/receipts/{record_id}"),
}

# Shared with every member of the network by design (the directory's electronic endpoints):
# anonymous callers are refused, other organisations are not.
NETWORK_READABLE = {("GET", "/fhir/Endpoint"), ("GET", "/fhir/Endpoint/{id}")}

NEW_KEY = public_jwk(private_key("EdDSA"), "intruder-key")

# A valid body for each state-changing route with a path parameter, so the request gets
# past validation and the isolation rule itself is what answers.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/admin/organisations/{org_id}/users"): {
        "email": "intruder@example.org",
        "display_name": "Intruder",
        "roles": ["case_worker"],
    },
    ("PATCH", "/admin/users/{user_id}"): {"team": "intruders"},
    ("POST", "/admin/organisations/{org_id}/approve"): {"reason": "x"},
    ("POST", "/admin/organisations/{org_id}/reject"): {"reason": "x"},
    ("POST", "/admin/organisations/{org_id}/suspend"): {"reason": "x"},
    ("POST", "/admin/organisations/{org_id}/reactivate"): {"reason": "x"},
    ("POST", "/admin/users/{user_id}/password-reset"): None,
    ("POST", "/admin/users/{user_id}/sessions/revoke"): None,
    ("POST", "/admin/organisations/{organisation_id}/clients"): {
        "name": "Intruder system",
        "jwks": {"keys": [NEW_KEY]},
        "allowed_scopes": ["system/*.read"],
    },
    ("POST", "/admin/clients/{client_id}/revoke"): None,
    ("POST", "/admin/clients/{client_id}/keys"): {"jwk": NEW_KEY},
    ("POST", "/admin/clients/{client_id}/keys/{kid}/revoke"): None,
    ("PUT", "/directory/services/{service_id}"): {"name": "Hijacked listing"},
    ("POST", "/directory/services/{service_id}/confirm"): None,
    ("POST", "/directory/services/{service_id}/moderation"): {"action": "suspend", "reason": "x"},
    ("POST", "/consent/clients/{person_id}/links"): {
        "related_id": "00000000-0000-4000-8000-000000000000",
        "kind": "family",
        "relationship": "sibling",
    },
    ("POST", "/consent/clients/{person_id}/consents"): CONSENT_BODY,
    ("POST", "/consent/consents/{consent_id}/versions"): CONSENT_BODY,
    ("POST", "/consent/consents/{consent_id}/revoke"): {"reason": "client-instruction"},
    ("POST", "/consent/clients/{person_id}/page-links"): {},
    ("PUT", "/fhir/Consent/{consent_id}"): {"resourceType": "Consent", "status": "inactive"},
    ("PUT", "/fhir/Patient/{person_id}"): {"resourceType": "Patient", "name": [{"text": "X"}]},
    ("POST", "/admin/outbox/dead-letters/{event_id}/retry"): None,
    ("POST", "/delivery/inbox/{message_id}/ack"): None,
    ("POST", "/referrals/{referral_id}/status"): {"status": "cancelled", "reason": "other"},
    ("POST", "/referrals/{referral_id}/assign"): {"team": "intruders"},
    ("POST", "/referrals/{referral_id}/resend"): {"service_id": str(uuid.uuid4())},
    ("POST", "/referrals/{referral_id}/messages"): {"text": "Tell me about the client"},
    ("POST", "/referrals/{referral_id}/first-contact"): {},
    ("POST", "/cases/{case_id}/close"): {
        "reason": "other",
        "outcome": "Closed by an intruder",
        "continuation_plan": "None",
    },
    ("POST", "/cases/{case_id}/notes"): {
        "contacted_at": "2026-01-05T10:00:00Z",
        "kind": "phone",
        "text": "Written by an intruder",
    },
    ("POST", "/cases/{case_id}/assessments"): {
        "assessed_on": "2026-01-05",
        "domains": {"housing": {"needs": [{"text": "Written by an intruder"}]}},
    },
    ("PUT", "/cases/{case_id}/plan"): {"disengagement": {"how": "Written by an intruder"}},
    ("POST", "/cases/{case_id}/plan/goals"): {
        "domain": "housing",
        "target_on": "2027-01-05",
        "worker_words": "Written by an intruder",
    },
    ("PATCH", "/cases/{case_id}/plan/goals/{goal_id}"): {"lifecycle_status": "cancelled"},
    ("POST", "/cases/{case_id}/plan/goals/{goal_id}/tasks"): {"description": "Intruder task"},
    ("PUT", "/cases/{case_id}/plan/tasks/{task_id}/referral"): {
        "referral_id": "00000000-0000-4000-8000-000000000000"
    },
    ("POST", "/cases/{case_id}/plan/reviews"): {
        "reviewed_on": "2026-01-05",
        "what_changed": "Written by an intruder",
        "why": "Intrusion",
    },
    ("PATCH", "/plan-tasks/{task_id}"): {"status": "cancelled"},
    ("POST", "/cases/{case_id}/reviews-requested"): {"subject": "closure"},
    ("POST", "/supervision/{review_id}/decision"): {"decision": "approved"},
    ("POST", "/cases/{case_id}/file-review"): None,
    ("POST", "/supervision/file-reviews/{file_review_id}/findings"): {"findings": "Intruder"},
    ("POST", "/cases/{case_id}/conferences"): {
        "held_on": "2026-01-05",
        "participants": [{"name": "Intruder"}],
        "decisions": "Written by an intruder",
    },
    ("PUT", "/fhir/Task/{task_id}"): {
        "resourceType": "Task",
        "id": "{task_id}",
        "status": "cancelled",
        "intent": "order",
    },
    # Hub admins only: an org admin of any organisation gets 403.
    ("POST", "/admin/clients/{person_id}/$erase"): {
        "basis": "data-subject-request",
        "reason": "Request received in writing",
    },
}


def _operations(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
    )


def test_anonymous_callers_are_refused_everywhere(app: FastAPI) -> None:
    http = TestClient(app, raise_server_exceptions=False)
    checked = 0
    for method, path in _operations(app):
        if (method, path) in PUBLIC:
            continue
        url = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)
        response = http.request(method, url, json={})
        assert response.status_code == 401, (method, path, response.status_code)
        body = response.json()
        if path == "/fhir" or path.startswith("/fhir/"):
            assert body["resourceType"] == "OperationOutcome", (method, path)
            assert body["issue"][0]["code"] == "login", (method, path)
        else:
            assert body["code"] in {"not-authenticated", "invalid-token"}, (method, path)
        checked += 1
    assert checked >= 40


def _case_of(db: Session, org_id: uuid.UUID, client_id: uuid.UUID) -> uuid.UUID:
    case = Case(client_id=client_id, owner_org_id=org_id, opened_by_org_id=org_id)
    db.add(case)
    db.flush()
    return case.id


def _bearer_for(app: FastAPI, db: Session, org: Organisation) -> dict[str, str]:
    """A system client of `org` with every scope, signed in with SMART Backend Services."""
    return _bearer_of(app, make_client(db, org, algs=("ES384",), scopes=("system/*.cruds",)))


def _bearer_of(app: FastAPI, registered: RegisteredClient) -> dict[str, str]:
    audience = "http://127.0.0.1:8000/auth/token"
    form = token_form(registered.assertion(audience), scope="system/Task.rs")
    token = TestClient(app).post("/auth/token", data=form)
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


@pytest.mark.parametrize("intruder_kind", ["org admin", "system client"])
def test_a_foreign_organisation_learns_nothing(
    intruder_kind: str,
    app: FastAPI,
    db: Session,
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> None:
    ours = make_account(roles=(Role.ORG_ADMIN,))
    our_client = make_client(db, ours.org)
    theirs = make_account(roles=(Role.ORG_ADMIN,))
    if intruder_kind == "org admin":
        staff = staff_client(theirs)
        http, headers = staff.http, {"X-CSRF-Token": staff.csrf}
    else:
        http, headers = (
            TestClient(app, raise_server_exceptions=False),
            _bearer_for(app, db, theirs.org),
        )
    ids = {
        "org_id": ours.org.id,
        "organisation_id": ours.org.id,
        "user_id": ours.user.id,
        "client_id": our_client.client.id,
        "kid": next(iter(our_client.keys)),
        "service_id": make_listing(db, ours.org.id),
        "event_id": uuid.uuid4(),
        **isolation_ids(db, ours.org.id),
        **delivery_isolation_ids(db, ours.org.id),
        **workflow_isolation_ids(db, ours.org.id),
    }
    ids["document_id"] = document_of(db, ours.org.id, ids["person_id"])
    ids["case_id"] = _case_of(db, ours.org.id, ids["person_id"])
    ids["goal_id"] = uuid.uuid4()  # the case's plan routes answer 404 before any goal
    ids["review_id"] = ids["file_review_id"] = uuid.uuid4()  # supervisors only: 403 first
    secrets = (ours.org.name, ours.user.email)  # ids appear only where the caller sent them
    walked = 0
    for method, path in _operations(app):
        params = re.findall(r"\{([^}]+)\}", path)
        if not params or (method, path) in PUBLIC | NETWORK_READABLE:
            continue
        unknown = [p for p in params if p not in ids]
        assert not unknown, f"add ids for {unknown} to walk {method} {path}"
        url = path.format(**ids)
        if method in ("POST", "PATCH", "PUT"):
            assert (method, path) in BODIES, f"add a valid body for {method} {path}"
            body = BODIES[(method, path)]
            if isinstance(body, dict) and body.get("id") == "{task_id}":
                body = {**body, "id": str(ids["task_id"])}
            response = http.request(method, url, json=body, headers=headers)
        else:
            response = http.request(method, url, headers=headers)
        assert response.status_code in (403, 404), (method, path, response.status_code)
        for secret in secrets:
            assert secret not in response.text, (method, path)
        walked += 1
    assert walked >= 25
    # and nothing changed for organisation A: its admin still signs in, its client still works
    assert staff_client(ours).get("/auth/me").status_code == 200
    assert _bearer_of(app, our_client)


# Routes without a path parameter answer for the caller's own organisation only (the
# workflow figures are checked against seeded referrals in tests/gateway/workflow).
@pytest.mark.parametrize(
    "path",
    [
        "/admin/organisations",
        "/workflow/thresholds",
        "/reports/referrals?side=sent",
        "/reports/referrals?side=received&format=csv",
    ],
)
def test_lists_show_only_the_callers_organisation(
    path: str, make_account: MakeAccount, staff_client: Callable[[Account], StaffClient]
) -> None:
    ours = make_account(roles=(Role.ORG_ADMIN,))
    intruder = staff_client(make_account(roles=(Role.ORG_ADMIN,)))
    listed = intruder.get(path)
    assert listed.status_code == 200
    assert ours.org.name not in listed.text
