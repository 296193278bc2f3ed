"""What every page of the organisation admin's console shares: its tab row, form field
types, role names, and turning a refusal into the error summary's message."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form
from fastapi.responses import HTMLResponse

from gateway.web.i18n import N_
from gateway.web.shell import Staff
from gateway.web.shell import refused as refused
from kernel.caller import Role

__all__ = [
    "ROLE_HINTS",
    "ROLE_LABELS",
    "ROLE_NAMES",
    "Field",
    "LongField",
    "admin_page",
    "refused",
    "tabs",
]

Field = Annotated[str, Form(max_length=1024)]
LongField = Annotated[str, Form(max_length=60000)]

#: The roles an org admin gives (a hub admin is made by the hub, never here).
ROLE_LABELS: dict[str, str] = {
    Role.CASE_WORKER.value: N_("Case worker"),
    Role.SUPERVISOR.value: N_("Supervisor"),
    Role.ORG_ADMIN.value: N_("Organisation administrator"),
}
#: Every role by name, for showing an account (a hub admin may also be in the list).
ROLE_NAMES: dict[str, str] = {**ROLE_LABELS, Role.HUB_ADMIN.value: N_("Hub administrator")}
ROLE_HINTS: dict[str, str] = {
    Role.CASE_WORKER.value: N_("Registers clients, sends and answers referrals."),
    Role.SUPERVISOR.value: N_("Also sees the team's work and late referrals."),
    Role.ORG_ADMIN.value: N_("Manages people, system clients, listings and workflow times."),
}


def tabs(staff: Staff) -> list[tuple[str, str, str]]:
    """The console's sections: (href, label, key) for `console_nav`."""
    _ = staff.gettext
    return [
        ("/ui/admin", _("Overview"), "overview"),
        ("/ui/admin/users", _("People"), "people"),
        ("/ui/admin/clients", _("System clients"), "clients"),
        ("/ui/listings", _("Directory listings"), "listings"),
        ("/ui/admin/thresholds", _("Workflow times"), "thresholds"),
        ("/ui/admin/planning", _("Case planning"), "planning"),
    ]


def admin_page(
    staff: Staff, template: str, current: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """Render `admin/<template>.html` with the console's tab row marked at `current`."""
    context.setdefault("errors", [])
    return staff.page(
        f"admin/{template}.html",
        status=status,
        nav="admin",
        tabs=tabs(staff),
        current=current,
        role_labels=ROLE_NAMES,
        **context,
    )
