"""The sign-in pages' helpers, now those of every staff page (`gateway.web.shell`).

The pages' security headers (no-store, CSP, framing, referrer) are set for every response
under /ui by `gateway.http.headers.SecurityHeadersMiddleware`, redirects included.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from gateway.web.shell import csrf_ok, go, render, session_state

__all__ = ["csrf_ok", "go", "page", "session_state"]


def page(request: Request, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a staff page in the request's language (the layout, the stylesheet)."""
    return render(request, name, status=status, **context)
