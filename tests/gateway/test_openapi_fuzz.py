"""Schemathesis over /openapi.json: every operation keeps the contract the document states,
as a system client with every scope and as a signed-in staff member (case worker,
supervisor and org admin).

The contract (see docs/api.md): no server error; every status code and content type the
hub answers is documented for the operation; each body matches its declared schema; a
request the schema allows is not refused as malformed (400/422), and one it forbids is not
accepted. Bounded and repeatable: a fixed seed, derandomized generation, MAX_EXAMPLES
generated cases an operation per phase, no example database.

Nothing is skipped: every operation in the document works in-process (the browser pages
under /ui are not in the document at all). The module runs on the run's database in one
transaction of its own, rolled back at its end, so what the fuzzer writes is gone
afterwards; each request inside it is a savepoint, as in the `app` fixture.

REFHUB_FUZZ_KEEP_GOING=1 records every failing case instead of stopping an operation at
its first failure, and the totals printed at the end then count all of them.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from sqlalchemy.orm import Session

from gateway.app import create_app
from gateway.auth import credentials
from gateway.auth import service as auth_service
from gateway.auth.dependencies import SESSION_COOKIE
from gateway.auth.errors import NotAuthenticated
from gateway.auth.models import StaffSession, User
from gateway.dependencies import get_session
from gateway.runtime import Runtime
from kernel.caller import Role
from kernel.db import end_transaction, utcnow
from kernel.settings import Settings
from tests.gateway.auth.factories import make_client, make_organisation, token_form
from tests.gateway.staff import PASSWORD, Account, StaffClient

MAX_EXAMPLES = 6
SEED = 20_160  # fixed: the same cases on every run and machine
KEEP_GOING = os.environ.get("REFHUB_FUZZ_KEEP_GOING") == "1"
#: The coverage phase (every boundary and violation of every parameter and body member,
#: about 4,900 cases) runs on PostgreSQL, the production database and the stricter one
#: (no NUL in text, bounded numbers); request validation before it is the same on both.
#: The generated cases run on both back-ends, for both callers.
COVERAGE = os.environ.get("REFHUB_TEST_BACKEND_CHOSEN", "postgresql") == "postgresql"
# Refusals of schema-valid requests by rules a JSON Schema cannot state: a rule across two
# fields or parameters, the state of stored records, or a document format's own rules (FHIR
# R4 resources are validated as FHIR defines them, not re-stated in this document). Each is
# the operation, the problem's `code` and a phrase of its answer naming the rule.
LISTING_RULES = (
    ("invalid-request", "minimum_age is above maximum_age"),
    ("invalid-request", "closes_at must be after opens_at"),
    ("invalid-request", "unknown IANA time zone"),
)
STATED_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    # The password must not contain the email's name, and needs 5 different characters; an
    # organisation name or an admin email already registered.
    "POST /admin/organisations/applications": (
        ("invalid-input", "The password must not contain"),
        ("invalid-input", "The password is too repetitive"),
        ("invalid-input", "already"),
    ),
    # The signed-in member has an authenticator already (enrolment is for accounts without).
    "POST /auth/totp/enrol": (("invalid-input", "already enrolled"),),
    "POST /auth/totp/confirm": (("invalid-input", "Start an enrolment first"),),
    # `radius_km` and `sort=distance` need `near`.
    "GET /directory/services": (("bad-search-parameter", "needs a point"),),
    # latitude and longitude go together.
    "POST /directory/match": (("invalid-request", "give both latitude and longitude"),),
    # minimum_age <= maximum_age; a schedule closes after it opens; the time zone is one
    # the IANA database holds.
    "POST /directory/services": LISTING_RULES,
    "PUT /directory/services/{service_id}": LISTING_RULES,
    # `proximity` needs `postcode`, a postcode some location has.
    "GET /hsds/service_at_locations": (
        ("bad-search-parameter", "needs a postcode"),
        ("bad-search-parameter", "no known location has this postcode"),
    ),
    # `since` before `until`.
    "GET /reports/referrals": (("invalid-window", "must be before"),),
    # A month still to come cannot be sampled (today's date decides).
    "POST /supervision/samples": (("casework-invalid", "still to come"),),
    # Criteria may only name the caller's own organisation.
    "POST /fhir/Subscription": (("invalid-subscription", "your own organisation"),),
    # A consent's recipient organisation must be one the network has (stored state).
    "POST /consent/clients/{person_id}/consents": (
        ("consent-invalid", "is not an organisation of this network"),
    ),
    "POST /consent/consents/{consent_id}/versions": (
        ("consent-invalid", "is not an organisation of this network"),
    ),
    # FHIR R4's own rules for the resource (and a referral's for its Bundle).
    "POST /fhir/Consent": (("consent-invalid", ""),),
    "PUT /fhir/Consent/{consent_id}": (
        ("consent-invalid", ""),
        ("resource-id-mismatch", ""),
        ("version-conflict", ""),
    ),
    "POST /fhir/Patient": (("consent-invalid", ""),),
    "PUT /fhir/Patient/{person_id}": (
        ("consent-invalid", ""),
        ("resource-id-mismatch", ""),
        ("version-conflict", ""),
    ),
    "POST /fhir": (("submission-invalid", ""),),
    "POST /fhir/Communication": (("submission-invalid", ""),),
    "PUT /fhir/Task/{task_id}": (("submission-invalid", ""),),
    # The body is in the format a parameter names (`from`, `format`): that format's reader
    # and the case summary's schema (/convert/summary.schema.json) decide; a JWS must verify
    # with a key of the caller's.
    "POST /convert": (("malformed-input", ""), ("unknown-format", "")),
    "POST /referrals": (
        ("malformed-input", ""),
        ("submission-invalid", ""),
        ("signature-invalid", ""),
    ),
}
# PostgreSQL stores no NUL character in text: there the hub answers 422 (SQLite stores it).
ANYWHERE = (("unstorable-input", ""),)


def _problem_code(response: Response) -> str:
    """The stable code of an error answer: problem JSON's `code`, or the first word of an
    OperationOutcome's diagnostics."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    if body.get("resourceType") == "OperationOutcome":
        return str(body["issue"][0].get("diagnostics", "")).split(";", 1)[0]
    return str(body.get("code", ""))


@schemathesis.check
def positive_data_acceptance_but_stated_rules(
    ctx: CheckContext, response: Response, case: Case
) -> bool | None:
    """`positive_data_acceptance`, but for a refusal listed in STATED_RULES."""
    code, text = _problem_code(response), response.text
    rules = STATED_RULES.get(case.operation.label, ()) + ANYWHERE
    if any(code == rule and phrase in text for rule, phrase in rules):
        return None
    return positive_data_acceptance(ctx, response, case)


@schemathesis.check
def negative_data_rejection_but_trial_conversions(
    ctx: CheckContext, response: Response, case: Case
) -> bool | None:
    """`negative_data_rejection`, but POST /convert is a trial: an input that does not
    convert is answered 200 with `ok: false` and the reasons per case (its media type aside,
    the body is read in the format `from` names)."""
    if (
        case.operation.label == "POST /convert"
        and response.status_code == 200
        and response.json().get("ok") is False
    ):
        return None
    return negative_data_rejection(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    positive_data_acceptance_but_stated_rules,
    negative_data_rejection_but_trial_conversions,
]


def _config(*, coverage: bool) -> schemathesis.Config:
    """The run's configuration. The coverage phase sends every boundary and every
    violation of each parameter and body member the schema defines (no `max-examples`
    bounds it); the staff member's run leaves it out, since request validation runs the
    same for every caller: it is there for what differs by caller (roles, CSRF, sessions).
    Probes with methods the document does not list are left out too: no check here
    reads their answers."""
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                "with-security-parameters": False,  # each caller sends its own credentials
            },
            "phases": {
                "coverage": {"enabled": coverage, "unexpected-methods": []},
                "stateful": {"enabled": False},
            },
        }
    )


schemathesis.serializer.alias("application/jose", "text/plain")  # a compact JWS is text
HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
STAFF_ROLES = (Role.CASE_WORKER, Role.SUPERVISOR, Role.ORG_ADMIN)
AUDIENCE = "http://127.0.0.1:8000/auth/token"


def _document_app() -> FastAPI:
    """The app as far as its OpenAPI document goes: the document depends on no database,
    so it is read at collection (one test per operation) from an app that opens none."""
    return create_app(Runtime(Settings(database_url="sqlite://")), run_relay=False)


_DOCUMENT_APP = _document_app()
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", _DOCUMENT_APP, config=_config(coverage=COVERAGE)
)
schema_without_coverage = schemathesis.openapi.from_asgi(
    "/openapi.json", _DOCUMENT_APP, config=_config(coverage=False)
)


@dataclass
class Tally:
    """What one caller's run did: operations, cases, failing cases by kind of failure."""

    caller: str
    operations: set[str] = field(default_factory=set)
    cases: int = 0
    phases: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    failed_operations: dict[str, set[str]] = field(default_factory=dict)

    def summary(self) -> str:
        kinds = "; ".join(
            f"{kind}: {n} cases in {len(self.failed_operations[kind])} operations"
            for kind, n in sorted(self.failures.items())
        )
        phases = ", ".join(f"{n} {phase}" for phase, n in sorted(self.phases.items()))
        return (
            f"schemathesis as {self.caller}: {len(self.operations)} operations, "
            f"{self.cases} cases ({phases}), {sum(self.failures.values())} failures"
            + (f" ({kinds})" if kinds else "")
        )


@dataclass
class ApiCaller:
    """Sends a case to the app with a caller's credentials; `renew` runs after each call."""

    app: FastAPI
    headers: dict[str, str]
    cookies: dict[str, str]
    tally: Tally
    renew: Callable[[ApiCaller], None] = lambda _caller: None

    def run(self, case: Case) -> None:
        __tracebackhide__ = True
        response = case.call(app=self.app, headers=dict(self.headers), cookies=dict(self.cookies))
        self.renew(self)
        self.tally.operations.add(case.operation.label)
        self.tally.cases += 1
        self.tally.phases[case.meta.phase.name.value if case.meta else "explicit"] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            for failure in {type(f): f for f in group.exceptions}.values():
                self.tally.failures[failure.kind_title] += 1
                self.tally.failed_operations.setdefault(failure.kind_title, set()).add(
                    case.operation.label
                )
            if not KEEP_GOING:
                raise


@pytest.fixture(scope="module")
def fuzz_db(runtime: Runtime) -> Iterator[Session]:
    """The module's session, inside a transaction rolled back at the module's end."""
    connection = runtime.engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture(scope="module")
def app_on_module(runtime: Runtime, fuzz_db: Session) -> Callable[[], FastAPI]:
    """The real app on the module's transaction (each request a savepoint in it): one per
    caller, so that each counts its own sign-in and token attempts."""

    def _session() -> Iterator[Session]:
        try:
            yield fuzz_db
        except BaseException as error:
            end_transaction(fuzz_db, error)
            raise
        end_transaction(fuzz_db, None)

    def make() -> FastAPI:
        application = create_app(runtime, run_relay=False)
        application.dependency_overrides[get_session] = _session
        return application

    return make


@pytest.fixture(scope="module")
def tallies(request: pytest.FixtureRequest) -> Iterator[list[Tally]]:
    found: list[Tally] = []
    yield found
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        for tally in found:
            print("\n" + tally.summary())


@pytest.fixture(scope="module")
def system_client(
    app_on_module: Callable[[], FastAPI], fuzz_db: Session, tallies: list[Tally]
) -> ApiCaller:
    """A system client of its own organisation granted every scope (`system/*.cruds`)."""
    fuzz_app = app_on_module()
    registered = make_client(fuzz_db, make_organisation(fuzz_db), scopes=("system/*.cruds",))
    form = token_form(registered.assertion(AUDIENCE), scope="system/*.cruds")
    token = TestClient(fuzz_app).post("/auth/token", data=form)
    assert token.status_code == 200, token.text
    tallies.append(tally := Tally("a system client"))
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    return ApiCaller(fuzz_app, headers, {}, tally)


def _staff_account(db: Session) -> Account:
    """A case worker, supervisor and org admin of a new organisation, with TOTP enrolled."""
    org = make_organisation(db)
    secret = credentials.new_totp_secret()
    user = User(
        organisation_id=org.id,
        email=f"fuzz-{uuid.uuid4().hex[:10]}@example.org",
        display_name="Fuzz Tester",
        roles=[role.value for role in STAFF_ROLES],
        password_hash=credentials.hash_password(PASSWORD),
        totp_secret=secret,
        totp_enabled=True,
    )
    db.add(user)
    db.flush()
    return Account(user=user, org=org, password=PASSWORD, totp_secret=secret)


def _open_session(db: Session, account: Account) -> tuple[str, str]:
    """A session past both sign-in steps, as the sign-in routes leave one (to replace a
    session a case ended: signing in again through the routes waits for a new TOTP step,
    and fuzzed codes may have locked the account)."""
    token, csrf = credentials.new_session_token(), secrets.token_urlsafe(24)
    db.add(
        StaffSession(
            token_hash=credentials.token_digest(token),
            csrf_token=csrf,
            user_id=account.user.id,
            mfa_passed=True,
            expires_at=utcnow() + auth_service.SESSION_ABSOLUTE,
        )
    )
    db.flush()
    return token, csrf


@pytest.fixture(scope="module")
def staff_member(
    app_on_module: Callable[[], FastAPI], fuzz_db: Session, tallies: list[Tally]
) -> ApiCaller:
    """A staff member signed in through the routes (password, then TOTP code); a session
    a case ends (signing out, revoking every session) is replaced before the next case."""
    fuzz_app = app_on_module()
    account = _staff_account(fuzz_db)
    browser = StaffClient(fuzz_app)
    assert browser.login(account) == "done"
    tallies.append(tally := Tally("a signed-in staff member"))

    def renew(caller: ApiCaller) -> None:
        try:
            auth_service.authenticate_session(fuzz_db, caller.cookies[SESSION_COOKIE])
        except NotAuthenticated:
            token, csrf = _open_session(fuzz_db, account)
            caller.cookies[SESSION_COOKIE] = token
            caller.headers["X-CSRF-Token"] = csrf

    cookies = {SESSION_COOKIE: str(browser.http.cookies.get(SESSION_COOKIE))}
    return ApiCaller(fuzz_app, {"X-CSRF-Token": browser.csrf}, cookies, tally, renew)


def test_the_document_fuzzed_is_the_one_served(app: FastAPI) -> None:
    served = TestClient(app).get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == schema.raw_schema


@schema.parametrize()
@HYPOTHESIS
def test_every_operation_keeps_its_contract_for_a_system_client(
    case: Case, system_client: ApiCaller
) -> None:
    system_client.run(case)


@schema_without_coverage.parametrize()
@HYPOTHESIS
def test_every_operation_keeps_its_contract_for_a_staff_member(
    case: Case, staff_member: ApiCaller
) -> None:
    staff_member.run(case)
