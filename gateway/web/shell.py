"""What every staff page shares: rendering in the staff member's language, the signed-in
staff member as a dependency, redirects, the form's CSRF check, the HTML 404.

A page route declares `staff: StaffDep`; a visitor who is not signed in (or has not passed
the second factor) is sent to the sign-in page instead, through the `GoTo` exception. The
route then calls the same service functions the JSON API calls, with `staff.caller`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.auth import credentials
from gateway.auth import service as auth_service
from gateway.auth.dependencies import SESSION_COOKIE
from gateway.auth.errors import NotAuthenticated
from gateway.dependencies import DbSession
from gateway.errors import http_problem
from gateway.web.i18n import LANGUAGE_COOKIE, LANGUAGES, environment, gettext_for, language_of
from gateway.workflow.models import Referral
from kernel.caller import Caller, Role
from kernel.errors import RefhubError

__all__ = [
    "GoTo",
    "HubAdminDep",
    "NotAllowed",
    "OrgAdminDep",
    "Staff",
    "StaffDep",
    "SupervisorDep",
    "csrf_ok",
    "go",
    "install",
    "refused",
    "render",
    "session_state",
]

STATIC_DIR = Path(__file__).parent / "static"


class GoTo(Exception):
    """Raised by a page dependency: answer with a redirect to `url` instead of the page."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class NotAllowed(Exception):
    """Raised by a console's dependency: the signed-in person lacks the console's role.
    Answered with the HTML 403 page (never the console, never a redirect that hides why)."""


def go(url: str) -> RedirectResponse:
    """See other (303): after a form post, the browser fetches `url` with GET."""
    return RedirectResponse(url, status_code=303)


def csrf_ok(sent: str, expected: str) -> bool:
    return bool(sent) and credentials.constant_time_equal(sent, expected)


def session_state(request: Request, session: Session) -> auth_service.SessionState | None:
    """The signed-in staff session of the request's cookie, if any."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return auth_service.authenticate_session(session, token)
    except NotAuthenticated:
        return None


@dataclass
class Staff:
    """The signed-in staff member of a page request, and what the layout shows."""

    state: auth_service.SessionState
    session: Session
    request: Request
    language: str
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def caller(self) -> Caller:
        return self.state.caller

    @property
    def csrf_token(self) -> str:
        return self.state.csrf_token

    def gettext(self, message: str) -> str:
        return str(gettext_for(self.language)(message))

    def check_csrf(self, sent: str) -> None:
        """A form post without the session's CSRF token goes back to the home page."""
        if not csrf_ok(sent, self.state.csrf_token):
            raise GoTo("/ui/?expired=1")

    def page(self, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        return render(self.request, name, status=status, **self.context, **context)


def _inbox_count(session: Session, caller: Caller) -> int:
    """Referrals addressed to the caller's organisation that nobody has answered yet."""
    if caller.organisation_id is None:
        return 0
    query = select(func.count()).where(
        Referral.owner_org_id == caller.organisation_id, Referral.status == "requested"
    )
    return int(session.scalar(query) or 0)


def refused(staff: Staff, exc: RefhubError, field: str = "") -> list[dict[str, str]]:
    """Undo a refused request's writes (unless the refusal's own record must stay); the
    refusal as the error summary's one message, linked to `field` if given."""
    if not exc.keeps_writes:
        staff.session.rollback()
    return [{"field": field, "message": exc.detail}]


def current_staff(request: Request, session: DbSession) -> Staff:
    """The signed-in staff member, or a redirect to where they have to go first."""
    state = session_state(request, session)
    if state is None:
        raise GoTo("/ui/login")
    if not state.mfa_passed or state.must_change_password:
        raise GoTo("/ui/login")
    staff = Staff(state, session, request, language_of(request))
    staff.context = {
        "caller": state.caller,
        "csrf_token": state.csrf_token,
        "profile": auth_service.describe(session, state.caller),
        "counts": {"inbox": _inbox_count(session, state.caller)},
        "consoles": [name for role, _path, name in CONSOLES if state.caller.has_role(role)],
    }
    return staff


StaffDep = Annotated[Staff, Depends(current_staff)]


#: The consoles and the role each needs: (role, path, label). The layout's navigation shows
#: a person the consoles of their roles; a route of a console checks the same role.
CONSOLES = (
    (Role.SUPERVISOR, "/ui/team", "team"),
    (Role.ORG_ADMIN, "/ui/admin", "admin"),
    (Role.HUB_ADMIN, "/ui/hub", "hub"),
)


def _console(role: Role) -> Callable[[Staff], Staff]:
    def staff_with_role(staff: StaffDep) -> Staff:
        if not staff.caller.has_role(role):
            raise NotAllowed(role.value)
        return staff

    return staff_with_role


SupervisorDep = Annotated[Staff, Depends(_console(Role.SUPERVISOR))]
OrgAdminDep = Annotated[Staff, Depends(_console(Role.ORG_ADMIN))]
HubAdminDep = Annotated[Staff, Depends(_console(Role.HUB_ADMIN))]


def render(request: Request, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a staff page template in the request's language."""
    language = language_of(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    timezone = request.app.state.runtime.settings.display_timezone
    html = environment(language).get_template(name).render(here=here, timezone=timezone, **context)
    return HTMLResponse(html, status_code=status)


def safe_next(url: str | None) -> str:
    """Only a path of the staff pages: never another site (no open redirect)."""
    if url and url.startswith("/ui/") and not url.startswith("//") and "\\" not in url:
        return url
    return "/ui/"


def choose_language(request: Request, lang: str = "en", next: str = "/ui/") -> Response:
    """The language menu: remember the choice in a cookie, back to the same page."""
    response = go(safe_next(next))
    if lang in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax", path="/"
        )
    return response


async def _go_to(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GoTo)
    return go(exc.url)


async def _not_found_or_problem(request: Request, exc: Exception) -> Response:
    """Under /ui/, a missing page is an HTML page a person can act on; elsewhere problem JSON."""
    assert isinstance(exc, StarletteHTTPException)
    if request.url.path.startswith("/ui") and exc.status_code in (404, 405):
        return render(request, "not_found.html", status=404, caller=None, errors=[])
    return http_problem(request, exc)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    """A console page asked for by someone without its role: 403, in words."""
    return render(request, "forbidden.html", status=403, caller=None, errors=[])


def to_the_pages() -> Response:
    """The hub's address leads people to the web application (its sign-in page)."""
    return go("/ui/")


def install(app: FastAPI) -> None:
    """Static files, `/`, the language menu, and the staff pages' error handling."""
    app.mount("/ui/static", StaticFiles(directory=STATIC_DIR), name="ui-static")
    app.add_api_route("/", to_the_pages, methods=["GET"], include_in_schema=False)
    app.add_api_route("/ui/language", choose_language, methods=["GET"], include_in_schema=False)
    app.add_exception_handler(GoTo, _go_to)
    app.add_exception_handler(NotAllowed, _not_allowed)
    app.add_exception_handler(StarletteHTTPException, _not_found_or_problem)


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
