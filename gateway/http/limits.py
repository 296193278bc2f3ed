"""Request-body limits for every route, enforced while the body streams in.

One limit per route class (docs/security.md, "Limits"): a body declared larger than its
class allows is refused with 413 before a byte of it is read; a body that streams past the
limit (chunked, or lying about its length) is cut off at the limit with the same 413. No
route, authenticated or not, reads more than its class allows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import http_problem

__all__ = [
    "API_LIMIT",
    "SIGN_IN_LIMIT",
    "SUBMISSION_LIMIT",
    "TOKEN_LIMIT",
    "BodyLimitMiddleware",
    "RouteClass",
    "route_class",
]

KB, MB = 1024, 1024 * 1024
SIGN_IN_LIMIT = 16 * KB
TOKEN_LIMIT = 64 * KB
API_LIMIT = 1 * MB
SUBMISSION_LIMIT = 5 * MB
DOCUMENT_OVERHEAD = 256 * KB  # multipart framing and the form's other fields

_SIGN_IN_PREFIXES = (
    "/auth/",
    "/ui/login",
    "/ui/totp",
    "/ui/enrol",
    "/ui/password",
    "/ui/logout",
    "/consent/page/",
)
_SUBMISSION_EXACT = ("/referrals", "/fhir", "/fhir/Communication", "/convert")
_SUBMISSION_PREFIXES = ("/fhir/Task/",)


@dataclass(frozen=True)
class RouteClass:
    name: str
    limit: int


def route_class(path: str, document_max_bytes: int) -> RouteClass:
    """The body limit of the route at `path` (see the module docstring)."""
    path = path.rstrip("/") or "/"
    if path == "/auth/token":  # its own 16 KB check answers OAuth's invalid_request (audited)
        return RouteClass("token requests", TOKEN_LIMIT)
    if path.startswith(_SIGN_IN_PREFIXES):
        return RouteClass("sign-in and token requests", SIGN_IN_LIMIT)
    if path in _SUBMISSION_EXACT or path.startswith(_SUBMISSION_PREFIXES):
        return RouteClass("referral submissions and conversions", SUBMISSION_LIMIT)
    if path == "/documents":
        return RouteClass("document uploads", document_max_bytes + DOCUMENT_OVERHEAD)
    return RouteClass("API and form requests", API_LIMIT)


def _too_large(kind: RouteClass) -> HTTPException:
    size = f"{kind.limit // MB} MB" if kind.limit >= MB else f"{kind.limit // KB} KB"
    return HTTPException(413, f"Request bodies of {kind.name} may be at most {size}.")


class BodyLimitMiddleware:
    """Pure ASGI: refuses or cuts off bodies over their route class's limit."""

    def __init__(self, app: ASGIApp, document_max_bytes: Callable[[], int]) -> None:
        self.app = app
        self.document_max_bytes = document_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        kind = route_class(scope.get("path", "/"), self.document_max_bytes())
        declared = _content_length(scope)
        if declared is not None and declared > kind.limit:
            await self._refuse(scope, receive, send, kind)
            return
        seen, finished = 0, False

        async def counted() -> Message:
            nonlocal seen, finished
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                finished = not message.get("more_body", False)
                if seen > kind.limit:
                    raise _too_large(kind)
            return message

        async def closing(message: Message) -> None:
            # An answer given before the body was read in full (a 401, a 413 mid-stream):
            # close the connection after it, so the server stops reading the rest.
            if message["type"] == "http.response.start" and not finished:
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        await self.app(scope, counted, closing)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, kind: RouteClass) -> None:
        """Answer 413 at once, in the surface's error format, without reading the body."""
        error = _too_large(kind)
        error.headers = {"Connection": "close"}
        await http_problem(Request(scope), error)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers") or []:
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 19 else None
    return None
