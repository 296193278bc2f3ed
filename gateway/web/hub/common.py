"""What every page of the hub console shares: its tab row, form field types, a refusal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Query
from fastapi.responses import HTMLResponse

from gateway.web.shell import Staff
from gateway.web.shell import refused as refused

__all__ = ["Field", "LongField", "Text", "hub_page", "refused", "tabs"]

Field = Annotated[str, Form(max_length=1024)]
LongField = Annotated[str, Form(max_length=2000)]
Text = Annotated[str, Query(max_length=200)]


def tabs(staff: Staff) -> list[tuple[str, str, str]]:
    """The console's sections: (href, label, key) for `console_nav`."""
    _ = staff.gettext
    return [
        ("/ui/hub", _("Overview"), "overview"),
        ("/ui/hub/organisations", _("Organisations"), "organisations"),
        ("/ui/hub/moderation", _("Listings to review"), "moderation"),
        ("/ui/hub/deliveries", _("Deliveries"), "deliveries"),
        ("/ui/hub/audit", _("Audit trail"), "audit"),
        ("/ui/hub/keys", _("Keys"), "keys"),
    ]


def hub_page(
    staff: Staff, template: str, current: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """Render `hub/<template>.html` with the console's navigation marked at `current`."""
    context.setdefault("errors", [])
    return staff.page(
        f"hub/{template}.html",
        status=status,
        nav="hub",
        tabs=tabs(staff),
        current=current,
        **context,
    )
