"""Hosts and response headers: which Host names the hub answers, and the security headers
every response carries (docs/security.md, "HTTP headers and hosts").

Two pure-ASGI middlewares, so that no route can forget them:

- `AllowedHostsMiddleware` refuses, with 400 problem JSON, a request whose Host header
  names a host other than the public URL's or one of `REFHUB_ALLOWED_HOSTS`. The hub never
  builds a link from the Host header (links come from `REFHUB_PUBLIC_BASE_URL`); refusing
  strange hosts keeps caches and logs from being fed forged ones. Health probes are exempt:
  orchestrators call them by the container's address, and they reflect nothing.
- `SecurityHeadersMiddleware` adds `X-Content-Type-Options: nosniff`, `Referrer-Policy:
  no-referrer` and, when the public URL is https, `Strict-Transport-Security` to every
  response; `Cache-Control: no-store` to every response except the static assets under
  /ui/static and the public metadata reads (FHIR capability statement, `/.well-known/*`,
  the OpenAPI document and its viewers); and to the HTML pages (staff UI under /ui, the
  client's consent page) a restrictive Content-Security-Policy and `X-Frame-Options: DENY`.
"""

from __future__ import annotations

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import problem_response
from kernel.settings import Settings

__all__ = [
    "HSTS",
    "PAGE_POLICY",
    "AllowedHostsMiddleware",
    "SecurityHeadersMiddleware",
    "host_name",
]

log = structlog.get_logger("refhub.http")

# No script runs on the pages. Styles: the hub's stylesheet (/ui/static) and, until the
# older sign-in and consent templates move to it, their inline <style> blocks.
PAGE_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)
HSTS = "max-age=31536000"  # one year; no includeSubDomains: other hosts are not ours
_PROBES = ("/healthz", "/readyz", "/metrics")
_STATIC = ("/ui/static/",)
_CACHEABLE = (*_STATIC, "/.well-known/", "/fhir/metadata", "/openapi.json", "/docs", "/redoc")
_PAGES = ("/ui", "/consent/page")

Headers = list[tuple[bytes, bytes]]


def host_name(value: str) -> str:
    """The host of a Host header value, lower case, without port or IPv6 brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else ""
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _path(scope: Scope) -> str:
    """The path inside the app (the ASGI path includes any root path)."""
    path = str(scope.get("path", "/"))
    return path.removeprefix(str(scope.get("root_path", ""))) or "/"


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    """`path` is one of `prefixes` or below one (a prefix ending in / matches below only)."""
    for prefix in prefixes:
        base = prefix.rstrip("/")
        if path.startswith(base + "/") or (path == base and not prefix.endswith("/")):
            return True
    return False


class AllowedHostsMiddleware:
    """Pure ASGI: answers 400 problem JSON to a request for a host the hub does not serve."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.allowed = settings.allowed_host_names
        self.public_base_url = settings.public_base_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "*" in self.allowed or _under(_path(scope), _PROBES):
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers") or []
        hosts = [value.decode("latin-1") for key, value in headers if key == b"host"]
        if len(hosts) == 1 and host_name(hosts[0]) in self.allowed:
            await self.app(scope, receive, send)
            return
        log.warning("http.host_refused", host=hosts[0][:100] if hosts else None)
        # The problem's `instance` is read from the request URL: leave the bad Host out.
        plain = {**scope, "headers": [(k, v) for k, v in headers if k != b"host"]}
        response = problem_response(
            Request(plain),
            status=400,
            code="host-not-allowed",
            title="Host not allowed",
            detail=f"This hub answers at {self.public_base_url}; the request's Host header "
            "names another host (or none, or more than one).",
        )
        await response(plain, receive, send)


class SecurityHeadersMiddleware:
    """Pure ASGI: sets the security headers of the module docstring on every response,
    replacing any the route set under the same names (one policy, in one place)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.common: Headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
        ]
        if settings.public_url_is_https:
            self.common.append((b"strict-transport-security", HSTS.encode()))

    def headers_for(self, path: str) -> Headers:
        """The headers a response to `path` carries."""
        headers = list(self.common)
        if not _under(path, _CACHEABLE):
            headers.append((b"cache-control", b"no-store"))
        if _under(path, _PAGES) and not _under(path, _STATIC):
            headers.append((b"content-security-policy", PAGE_POLICY.encode()))
            headers.append((b"x-frame-options", b"DENY"))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self.headers_for(_path(scope))
        names = {name for name, _ in added}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in names
                ]
                message["headers"] = kept + added
            await send(message)

        await self.app(scope, receive, send_with_headers)
