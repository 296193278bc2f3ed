"""What every staff page shares: templates, the signed-in state, CSRF.

The pages' security headers (no-store, CSP, framing, referrer) are set for every response
under /ui by `gateway.http.headers.SecurityHeadersMiddleware`, redirects included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from gateway.auth import credentials
from gateway.auth import service as auth_service
from gateway.auth.dependencies import SESSION_COOKIE
from gateway.auth.errors import NotAuthenticated

__all__ = ["csrf_ok", "go", "page", "session_state", "templates"]

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def page(request: Request, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a template (its security headers come from the middleware)."""
    return templates.TemplateResponse(request, name, context, status_code=status)


def go(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def session_state(request: Request, session: Session) -> auth_service.SessionState | None:
    """The signed-in staff session of the request's cookie, if any."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return auth_service.authenticate_session(session, token)
    except NotAuthenticated:
        return None


def csrf_ok(sent: str, expected: str) -> bool:
    return bool(sent) and credentials.constant_time_equal(sent, expected)
