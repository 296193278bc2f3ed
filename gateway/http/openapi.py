"""The OpenAPI document's error contract: the answers any route can give, documented once.

Routes declare what is theirs (`responses=` with their own statuses, a body's media types);
what the hub's middleware and error handlers add to every route is added here, from what
each route depends on, so the document lists every status and content type the hub can
answer (the schemathesis suite in tests/gateway/test_openapi_fuzz.py holds it to that):

- 400 everywhere: a Host the hub does not serve (`gateway.http.headers`), a request cut
  short; on routes with query parameters also a malformed one (`gateway.errors`).
- 401 and 403 where the caller is read (`current_caller`, the sign-in session, or the
  directory's optional caller, which still refuses bad credentials with 401).
- 404 where the path names a record; 409 on writes that use the database (a write that
  lost a race answers 409, nothing changed); 413 on every route that takes a body
  (`gateway.http.limits`); 422 on routes with parameters or a body; 503 wherever the
  database is used (busy or out of reach for now). Throttled routes declare their 429.

Errors are problem JSON (RFC 9457), or an OperationOutcome in application/fhir+json on
the FHIR routes under /fhir, whose successful answers are application/fhir+json too.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from starlette.routing import BaseRoute

from directory import api as directory_api
from gateway.auth import dependencies as auth_dependencies
from gateway.dependencies import get_session
from gateway.errors import FHIR_PREFIX

__all__ = [
    "FHIR_BUNDLE_INPUT",
    "OPERATION_OUTCOME",
    "PROBLEM",
    "SECURITY_SCHEMES",
    "SUMMARY_INPUT",
    "document_errors",
    "fhir_body",
    "install",
]

PROBLEM_JSON = "application/problem+json"
FHIR_JSON = "application/fhir+json"
JSON = "application/json"
_BODY_METHODS = frozenset({"post", "put", "patch", "delete"})  # the body limit applies

PROBLEM: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457 problem details); `code` is stable, `request_id` "
    "finds the hub's log line.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code", "request_id"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["location", "message"],
                "properties": {"location": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
OPERATION_OUTCOME: dict[str, Any] = {
    "title": "OperationOutcome",
    "description": "An error on a FHIR route: a FHIR R4 OperationOutcome.",
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "issue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"enum": ["fatal", "error", "warning", "information"]},
                    "code": {"type": "string"},
                },
            },
        },
    },
}
# Bodies routes read themselves, in the format a parameter names: their shape as far as a
# schema can say it; the format's reader decides the rest.
SUMMARY_INPUT: dict[str, Any] = {
    "description": "A case summary (see /convert/summary.schema.json), or a list of them.",
    "type": ["object", "array"],
    "items": {"type": "object"},
}
FHIR_BUNDLE_INPUT: dict[str, Any] = {
    "description": "A FHIR R4 Bundle of the referral's resources.",
    "type": "object",
}
SECURITY_SCHEMES: dict[str, Any] = {
    "systemClient": {
        "type": "oauth2",
        "description": "A system client's bearer access token (SMART Backend Services: a "
        "signed client assertion exchanged at /auth/token).",
        "flows": {"clientCredentials": {"tokenUrl": "/auth/token", "scopes": {}}},
    },
    "staffSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": auth_dependencies.SESSION_COOKIE,
        "description": "A signed-in staff member's session cookie (POST /auth/login, then "
        "/auth/login/totp); requests that change state also send its CSRF token in the "
        "X-CSRF-Token header.",
    },
}
_DESCRIPTIONS = {
    400: "Bad request: a malformed query parameter (named in `errors`), a Host the hub "
    "does not serve, or a request cut short.",
    401: "Not signed in, or the access token or session is missing, expired or revoked.",
    403: "Authenticated, but the role, scopes, CSRF token or organisation do not allow this.",
    404: "No such record, or none the caller may see.",
    409: "Conflicts with the current state or with a change made at the same moment; "
    "nothing was changed.",
    413: "The body is larger than this route's class of requests allows.",
    422: "The body or parameters do not match what this route accepts; see `errors`.",
    503: "The database is busy or out of reach for now; nothing was changed. Retry after "
    "`Retry-After` seconds.",
}
_DEFAULT_VALIDATION_REF = "#/components/schemas/HTTPValidationError"


def fhir_body(resource_type: str, **properties: Any) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a FHIR resource body itself: its media types,
    its `resourceType` and the other members the route requires before FHIR validation."""
    schema = {
        "type": "object",
        "required": ["resourceType", *properties],
        "properties": {"resourceType": {"const": resource_type}, **properties},
    }
    media = {"schema": schema}
    return {"requestBody": {"required": True, "content": {FHIR_JSON: media, JSON: media}}}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def _reads_caller(call: Callable[..., Any]) -> str | None:
    """'required' or 'optional' when `call` reads the caller's credentials."""
    if call in (auth_dependencies.current_caller, auth_dependencies.current_session_state):
        return "required"
    if getattr(call, "__func__", None) is directory_api.Wiring.optional_caller:
        return "optional"
    return None


def _callers(dependant: Dependant) -> set[str]:
    return {kind for call in _calls(dependant) if (kind := _reads_caller(call))}


def _statuses(dependant: Dependant, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses the hub's middleware and handlers can add to this operation."""
    calls = set(_calls(dependant))
    callers = _callers(dependant)
    uses_db = get_session in calls
    found = {400}
    if "required" in callers:
        found |= {401, 403}
    elif "optional" in callers:
        found.add(401)
    if dependant.path_params:
        found.add(404)
    if method in _BODY_METHODS:
        found.add(413)
    if operation.get("parameters") or "requestBody" in operation:
        found.add(422)
    if method in _BODY_METHODS and uses_db:
        found.add(409)
    if uses_db:
        found.add(503)
    return found


def _document_security(operation: dict[str, Any], callers: set[str]) -> None:
    """Which credentials the operation reads: either kind, or none at all for public reads."""
    if callers:
        either: list[dict[str, list[str]]] = [{name: []} for name in SECURITY_SCHEMES]
        operation["security"] = either if "required" in callers else [*either, {}]


def _is_fhir(path: str) -> bool:
    return path == FHIR_PREFIX or path.startswith(FHIR_PREFIX + "/")


def _error_media(fhir: bool) -> tuple[str, dict[str, Any]]:
    if fhir:
        return FHIR_JSON, {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}
    return PROBLEM_JSON, {"schema": {"$ref": "#/components/schemas/Problem"}}


def _document_operation(path: str, method: str, operation: dict[str, Any], added: set[int]) -> None:
    fhir = _is_fhir(path)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in added:
        responses.setdefault(str(status), {"description": _DESCRIPTIONS[status]})
    operation["responses"] = responses = dict(sorted(responses.items()))
    for code, response in responses.items():
        content: dict[str, Any] = response.get("content") or {}
        is_error = code.isdigit() and int(code) >= 400
        default_validation = (
            content.get(JSON, {}).get("schema", {}).get("$ref") == _DEFAULT_VALIDATION_REF
        )
        media, error = _error_media(fhir)
        if is_error and (not content or default_validation):
            response["content"] = {media: error}
            continue
        if fhir:  # every answer under /fhir is FHIR JSON, whatever the route's model says
            content = {
                (FHIR_JSON if name in (JSON, PROBLEM_JSON) else name): value
                for name, value in content.items()
            }
            response["content"] = content
        if is_error and media in content and not content[media].get("schema"):
            content[media] = error


def document_errors(document: dict[str, Any], routes: list[BaseRoute]) -> dict[str, Any]:
    """`document` with every operation's hub-wide errors added (see the module docstring)."""
    for context in routing.iter_route_contexts(routes):  # also inside included routers
        if not isinstance(context.original_route, routing.APIRoute):
            continue
        path = str(context.path_format)
        item = document["paths"].get(path, {})
        for method in sorted(m.lower() for m in context.methods or ()):
            if method in item:
                added = _statuses(context.dependant, method, item[method])
                _document_operation(path, method, item[method], added)
                _document_security(item[method], _callers(context.dependant))
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    schemas["OperationOutcome"] = OPERATION_OUTCOME
    if _DEFAULT_VALIDATION_REF not in json.dumps(document["paths"]):  # all replaced
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document


def install(app: FastAPI) -> None:
    """Serve the document with the hub-wide errors added (rebuilt when routes change)."""
    made: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def openapi() -> dict[str, Any]:
        base = FastAPI.openapi(app)  # FastAPI's own, cached until the routes change
        if not made or made[0][0] is not base:
            made[:] = [(base, document_errors(copy.deepcopy(base), list(app.routes)))]
        return made[0][1]

    app.openapi = openapi  # type: ignore[method-assign]
