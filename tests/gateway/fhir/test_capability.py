"""The CapabilityStatement says exactly what the FHIR API serves: every route under /fhir
is listed, every listed interaction and operation has a route, every listed search
parameter is read by its search, plus `transaction` and the SMART security service.

Other packages add FHIR routes: when this fails, its message lists what is missing where.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.gateway.auth.factories import make_client, make_organisation, token_form

STRICT = {"Prefer": "handling=strict"}
UNSUPPORTED = "is not a supported search parameter"
#: A value of each search-parameter type (any answer but "unsupported" proves it is read).
SAMPLE = {
    "token": "active",
    "reference": f"Organization/{uuid.uuid4()}",
    "date": "ge2020-01-01",
    "string": "a",
    "number": "1",
    "uri": "https://example.org",
    "quantity": "1",
    "composite": "a$b",
    "special": "a",
}
#: Routes that are not resource interactions: the statement itself.
NOT_RESOURCE = {("GET", "/fhir/metadata")}


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) of every APIRoute, also those of included routers (FastAPI keeps
    an included router as one `_IncludedRouter` entry: its router and the include prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif (inner := getattr(route, "original_router", None)) is not None:
            context = getattr(route, "include_context", None)
            yield from _routes(inner.routes, prefix + getattr(context, "prefix", ""))


def fhir_routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    found = {}
    for path, route in _routes(app.routes):
        if path == "/fhir" or path.startswith("/fhir/"):
            for method in route.methods:
                found[(method, path)] = route
    return found


_PARAM = r"\{[^}/]+\}"
_TYPE = r"[A-Z][A-Za-z]+"
_OP = r"\$[a-z][a-z0-9-]*"
#: (method, path pattern) -> what the route is in CapabilityStatement terms
_SHAPES: list[tuple[str, str, str]] = [
    ("POST", r"/fhir", "system:transaction"),
    ("GET", rf"/fhir/({_TYPE})", "search-type"),
    ("POST", rf"/fhir/({_TYPE})/_search", "search-type"),
    ("POST", rf"/fhir/({_TYPE})", "create"),
    ("PUT", rf"/fhir/({_TYPE})", "conditional-update"),
    ("GET", rf"/fhir/({_TYPE})/{_PARAM}", "read"),
    ("PUT", rf"/fhir/({_TYPE})/{_PARAM}", "update"),
    ("PATCH", rf"/fhir/({_TYPE})/{_PARAM}", "patch"),
    ("DELETE", rf"/fhir/({_TYPE})/{_PARAM}", "delete"),
    ("GET", rf"/fhir/({_TYPE})/{_PARAM}/_history/{_PARAM}", "vread"),
    ("GET", rf"/fhir/({_TYPE})/{_PARAM}/_history", "history-instance"),
    ("GET", rf"/fhir/({_TYPE})/_history", "history-type"),
    ("GET|POST", rf"/fhir/({_TYPE})/{_PARAM}/({_OP})", "operation"),
    ("GET|POST", rf"/fhir/({_TYPE})/({_OP})", "operation"),
    ("GET|POST", rf"/fhir/({_OP})", "system:operation"),
]


def classify(method: str, path: str) -> tuple[str, str] | None:
    """("Task", "read"), ("Subscription", "$status"), ("system", "transaction") or None."""
    for methods, pattern, what in _SHAPES:
        match = re.fullmatch(pattern, path)
        if method not in methods.split("|") or match is None:
            continue
        groups = match.groups()
        if what == "system:transaction":
            return "system", "transaction"
        if what == "system:operation":
            return "system", groups[0]
        if what == "operation":
            return groups[0], groups[-1]
        return groups[0], what
    return None


def listed(statement: dict[str, Any]) -> set[tuple[str, str]]:
    rest = statement["rest"][0]
    out = {("system", i["code"]) for i in rest.get("interaction", [])}
    out |= {("system", "$" + o["name"]) for o in rest.get("operation", [])}
    for resource in rest["resource"]:
        out |= {(resource["type"], i["code"]) for i in resource.get("interaction", [])}
        out |= {(resource["type"], "$" + o["name"]) for o in resource.get("operation", [])}
    return out


@pytest.fixture
def statement(client: TestClient) -> dict[str, Any]:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, dict)
    return body


def test_every_fhir_route_is_in_the_statement_and_every_listed_interaction_has_a_route(
    app: FastAPI, statement: dict[str, Any]
) -> None:
    routes = fhir_routes(app)
    assert len(routes) >= 20, sorted(routes)  # the walk reached the included routers
    served: dict[tuple[str, str], str] = {}
    unknown_shapes = []
    for method, path in sorted(routes):
        if (method, path) in NOT_RESOURCE:
            continue
        what = classify(method, path)
        if what is None:
            unknown_shapes.append(f"{method} {path}")
        else:
            served[what] = f"{method} {path}"
    declared = listed(statement)
    not_listed = sorted(f"{served[k]} -> {k[0]} {k[1]}" for k in set(served) - declared)
    no_route = sorted(f"{kind} {what}" for kind, what in declared - set(served))
    assert not unknown_shapes, f"routes of no FHIR interaction shape: {unknown_shapes}"
    assert not not_listed, (
        "routes the CapabilityStatement does not list (add them to the owning package's "
        f"CAPABILITY): {not_listed}"
    )
    assert not no_route, f"listed in the CapabilityStatement but no route serves: {no_route}"


def test_the_statement_lists_transaction_and_the_smart_security_service(
    client: TestClient, statement: dict[str, Any]
) -> None:
    rest = statement["rest"][0]
    assert {"code": "transaction"}.items() <= rest["interaction"][0].items()
    security = rest["security"]
    (coding,) = security["service"][0]["coding"]
    assert coding["system"] == "http://terminology.hl7.org/CodeSystem/restful-security-service"
    assert coding["code"] == "SMART-on-FHIR"
    (uris,) = security["extension"]
    token = {e["url"]: e["valueUri"] for e in uris["extension"]}["token"]
    smart = client.get("/.well-known/smart-configuration").json()
    assert token == smart["token_endpoint"]


def _caller(app: FastAPI, db: Session) -> dict[str, str]:
    org = make_organisation(db)
    registered = make_client(db, org, scopes=("system/*.cruds",))
    db.commit()
    form = token_form(registered.assertion("http://127.0.0.1:8000/auth/token"), "system/*.cruds")
    token = TestClient(app).post("/auth/token", data=form)
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_every_listed_search_parameter_is_read_by_its_search(
    app: FastAPI, db: Session, client: TestClient, statement: dict[str, Any]
) -> None:
    routes = fhir_routes(app)
    headers = {**_caller(app, db), **STRICT}
    problems = []
    for resource in statement["rest"][0]["resource"]:
        params = resource.get("searchParam", [])
        route = routes.get(("GET", f"/fhir/{resource['type']}"))
        if not params or route is None:
            continue  # a search without a route is reported by the test above
        declared = {q.alias for q in route.dependant.query_params}
        url = f"/fhir/{resource['type']}"
        if declared:  # FastAPI reads the query: the parameter must be one it declares
            problems += [
                f"{resource['type']}?{p['name']}: not declared by the route"
                for p in params
                if p["name"] not in declared
            ]
            continue
        # read by the route itself: strict handling must refuse what it does not read
        bogus = client.get(url, params={"zz-not-a-param": "1"}, headers=headers)
        if bogus.status_code != 400 or UNSUPPORTED not in bogus.text:
            problems.append(f"{url}: does not refuse unknown parameters under handling=strict")
            continue
        for param in params:
            value = SAMPLE.get(param["type"], "a")
            answer = client.get(url, params={param["name"]: value}, headers=headers)
            if answer.status_code >= 500 or UNSUPPORTED in answer.text:
                problems.append(f"{url}?{param['name']}={value}: {answer.status_code}")
    assert not problems, f"search parameters listed but not read: {problems}"
