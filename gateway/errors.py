"""Error rendering for every HTTP surface: RFC 9457 problem JSON, or FHIR OperationOutcome.

Routes under /fhir answer with an OperationOutcome (application/fhir+json); every other
route with problem JSON. Callers never see a stack trace; every error carries the request
id so an operator can find the log line.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from adapters import AdapterError
from kernel.errors import RefhubError

__all__ = [
    "ResponsesDoc",
    "error_responses",
    "http_problem",
    "install_error_handlers",
    "problem_response",
]

log = structlog.get_logger("refhub.errors")

PROBLEM_TYPE_BASE = "urn:refhub:problem:"
FHIR_PREFIX = "/fhir"

_FHIR_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    413: "too-long",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    503: "transient",
}


ResponsesDoc = dict[int | str, dict[str, Any]]


def error_responses(*statuses: int) -> ResponsesDoc:
    """The `responses=` entry documenting a route's error statuses as problem JSON."""
    return {
        status: {"description": _title(status), "content": {"application/problem+json": {}}}
        for status in statuses
    }


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """Render one error in the format the route's surface speaks.

    `extra` adds members to problem JSON (e.g. the allowed transitions of a 409); on FHIR
    routes the detail text must already say what they say.
    """
    request_id = _request_id(request)
    out_headers = {"X-Request-ID": request_id, **(headers or {})}
    if request.url.path == FHIR_PREFIX or request.url.path.startswith(FHIR_PREFIX + "/"):
        issues: list[dict[str, Any]] = [
            {
                "severity": "error" if status < 500 else "fatal",
                "code": _FHIR_ISSUE_CODES.get(status, "exception"),
                "details": {"text": detail},
                "diagnostics": f"{code}; request id {request_id}",
            }
        ]
        for item in errors or []:
            issues.append(
                {
                    "severity": "error",
                    "code": "invalid",
                    "details": {"text": item["message"]},
                    "expression": [item["location"]],
                }
            )
        return JSONResponse(
            {"resourceType": "OperationOutcome", "issue": issues},
            status_code=status,
            media_type="application/fhir+json",
            headers=out_headers,
        )
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
        "request_id": request_id,
    }
    if errors:
        body["errors"] = errors
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=out_headers
    )


async def _refhub_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RefhubError)
    if exc.status >= 500:
        log.error("request.failed", code=exc.code, error=type(exc).__name__)
    headers = {}
    if exc.status == 401:  # RFC 6750 section 3: say how to authenticate
        challenge = 'Bearer realm="refhub"'
        if exc.code == "invalid-token":
            challenge += ', error="invalid_token"'
        headers["WWW-Authenticate"] = challenge
    headers.update(getattr(exc, "headers", None) or {})  # e.g. Retry-After of a 429
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        headers=headers,
        errors=getattr(exc, "errors", None),
        extra=getattr(exc, "extra", None),
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # The offending input is left out on purpose: it may be client data.
    errors = [
        {
            "location": ".".join(str(part) for part in err.get("loc", ())),
            "message": str(err.get("msg", "invalid")),
        }
        for err in exc.errors()
    ]
    # A malformed query parameter makes the request itself bad (400, naming the parameter);
    # a body that parses but breaks the schema is unprocessable (422).
    in_query = bool(errors) and all(e["location"].startswith("query.") for e in errors)
    return problem_response(
        request,
        status=400 if in_query else 422,
        code="invalid-request",
        title="Invalid request",
        detail="The request does not match what this endpoint accepts; see errors.",
        errors=errors,
    )


def http_problem(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """An HTTP-level error (404 route, 405, 413...) as problem JSON / OperationOutcome."""
    title = _title(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else title
    code = title.lower().replace(" ", "-").replace("'", "")
    return problem_response(
        request,
        status=exc.status_code,
        code=code,
        title=title,
        detail=detail,
        headers=dict(exc.headers or {}),
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return http_problem(request, exc)


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    """A write that lost a race to a concurrent one (a duplicate key): the transaction was
    rolled back, so nothing is half-stored. Only the constraint's name is logged: the
    statement's parameters may be client data."""
    assert isinstance(exc, IntegrityError)
    diag = getattr(exc.orig, "diag", None)
    log.warning(
        "request.conflict",
        constraint=getattr(diag, "constraint_name", None) or "unknown",
        error=type(exc.orig).__name__,
    )
    return problem_response(
        request,
        status=409,
        code="conflict",
        title="Conflict",
        detail="This change conflicts with one stored at the same moment (a duplicate); "
        "nothing was changed. Read the current state, then retry if still needed.",
    )


async def _database_busy(request: Request, exc: Exception) -> JSONResponse:
    """The database is busy or out of reach for now: waiting on the embedded database's
    write lock past its timeout, a deadlock broken by PostgreSQL, no pooled connection
    free, a lost connection. The transaction was rolled back; retrying is safe."""
    log.warning("request.database_busy", error=type(getattr(exc, "orig", exc)).__name__)
    return problem_response(
        request,
        status=503,
        code="database-busy",
        title="The hub is busy",
        detail="The hub's database could not take this request in time; nothing was "
        "changed. Retry in a few seconds.",
        headers={"Retry-After": "5"},
    )


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    """A value the database refused to store or compare: PostgreSQL takes no NUL character
    in text, and no number beyond its column's range. Rolled back; the value is not logged
    (it may be client data)."""
    log.warning("request.unstorable_input", error=type(getattr(exc, "orig", exc)).__name__)
    return problem_response(
        request,
        status=422,
        code="unstorable-input",
        title="Input the hub cannot store",
        detail="A value in the request cannot be stored (a NUL character in text, or a "
        "number out of range); nothing was changed.",
    )


async def _too_deep(request: Request, exc: Exception) -> JSONResponse:
    """Input nested so deeply that processing it exhausted the stack (a hostile body)."""
    log.warning("request.input_too_deep")
    return problem_response(
        request,
        status=422,
        code="input-too-deep",
        title="Input nested too deeply",
        detail="The request's data nests too deeply to be processed; nothing was stored.",
    )


async def _client_gone(request: Request, exc: Exception) -> JSONResponse:
    """The client hung up mid-request: nobody reads an answer, so none is rendered in full."""
    log.info("request.client_disconnected")
    return problem_response(
        request,
        status=400,
        code="client-disconnected",
        title="The client disconnected",
        detail="The connection closed before the request arrived in full.",
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("request.crashed", error=type(exc).__name__, exc_info=exc)
    return problem_response(
        request,
        status=500,
        code="internal-error",
        title="Internal error",
        detail="The hub could not complete this request; nothing was changed. "
        "Quote the request id to the hub's operators.",
    )


async def _adapter_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AdapterError)
    if exc.status >= 500:
        log.error("adapter.packet_invalid", code=exc.code)
        return await _unexpected_error(request, exc)
    return problem_response(
        request,
        status=exc.status,
        code=exc.code,
        title="The input cannot be converted",
        detail=str(exc),
        errors=[
            {"location": exc.location or "input", "message": exc.message, "expected": exc.expected}
        ],
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(RefhubError, _refhub_error)
    app.add_exception_handler(AdapterError, _adapter_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(OperationalError, _database_busy)
    app.add_exception_handler(PoolTimeout, _database_busy)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(RecursionError, _too_deep)
    app.add_exception_handler(Exception, _unexpected_error)
