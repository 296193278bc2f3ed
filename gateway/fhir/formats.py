"""The FHIR formats the hub speaks: JSON only. A request under /fhir that asks for another
format (`_format=xml`, or an `Accept` admitting only XML) is answered 406 with an
OperationOutcome (in JSON, the one format the hub has), never JSON labelled as success.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import http_problem

__all__ = ["JSON_FORMATS", "FhirFormatMiddleware", "refused_format"]

#: `_format` values (FHIR R4 http 3.1.0.1.9) and media types that mean FHIR JSON.
JSON_FORMATS = frozenset(
    {"json", "application/json", "application/fhir+json", "application/json+fhir"}
)
#: `Accept` ranges that admit FHIR JSON.
_JSON_RANGES = JSON_FORMATS | {"*/*", "application/*"}
_PREFIX = "/fhir"


def _media_type(value: str) -> str:
    # an unencoded `+` (application/fhir+json) arrives as a space
    return value.split(";", 1)[0].strip().lower().replace(" ", "+")


def _accepted(header: str) -> list[str]:
    """The media ranges an Accept header admits (q=0 ranges excluded)."""
    out: list[str] = []
    for item in header.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        q = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
        try:
            admitted = float(q) > 0
        except ValueError:
            admitted = True
        if media and admitted:
            out.append(media.lower())
    return out


def refused_format(query: str, accept: str | None) -> str | None:
    """Why a request's `_format` or `Accept` cannot be answered in JSON, or None."""
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name == "_format" and _media_type(value) not in JSON_FORMATS:
            return (
                f"_format={value} is not supported: this server answers FHIR JSON only "
                "(_format=json or application/fhir+json)."
            )
    if accept:
        ranges = _accepted(accept)
        if ranges and not any(r in _JSON_RANGES or r.endswith("json") for r in ranges):
            return (
                f"Accept: {accept} admits no format this server has: it answers FHIR JSON "
                "only (application/fhir+json)."
            )
    return None


class FhirFormatMiddleware:
    """Pure ASGI: 406 OperationOutcome for /fhir requests wanting a format other than JSON."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == _PREFIX or path.startswith(_PREFIX + "/"):
            accept = None
            for key, value in scope.get("headers") or []:
                if key == b"accept":
                    accept = value.decode("latin-1")
            query = scope.get("query_string", b"").decode("latin-1")
            reason = refused_format(query, accept)
            if reason is not None:
                error = HTTPException(406, reason)
                await http_problem(Request(scope), error)(scope, receive, send)
                return
        await self.app(scope, receive, send)
