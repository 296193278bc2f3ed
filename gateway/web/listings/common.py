"""What every page of the listings console shares: its tab row, the posted form, the page
helper, a refusal, and a listing of the caller's organisation or the HTML 404."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from directory import owned as directory_owned
from directory.details import Details
from directory.errors import ListingNotFound
from gateway.web.shell import Staff, parse_uuid
from gateway.web.shell import refused as refused

__all__ = [
    "Field",
    "LongField",
    "Posted",
    "PostedDep",
    "listings_page",
    "own_listing_or_404",
    "refused",
    "tabs",
]

Field = Annotated[str, Form(max_length=1024)]
LongField = Annotated[str, Form(max_length=10000)]
#: A posted form as name -> values (the listing form has rows of its own: locations, days).
Posted = dict[str, list[str]]
_MAX_FIELDS = 400


async def _posted(request: Request) -> Posted:
    """The form's fields (read in the event loop; the page route itself runs in a thread)."""
    form = await request.form(max_files=0, max_fields=_MAX_FIELDS)
    out: Posted = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value[:10000])
    return out


PostedDep = Annotated[Posted, Depends(_posted)]


def tabs(staff: Staff) -> list[tuple[str, str, str]]:
    """The console's sections: (href, label, key) for `console_nav`."""
    _ = staff.gettext
    return [
        ("/ui/listings", _("Your listings"), "listings"),
        ("/ui/listings/new", _("Add a listing"), "new"),
        ("/ui/listings/endpoint", _("Electronic referrals"), "endpoint"),
        ("/ui/listings/organisation", _("Organisation in the directory"), "organisation"),
    ]


def listings_page(
    staff: Staff, template: str, current: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """Render `listings/<template>.html` in the organisation console's frame."""
    context.setdefault("errors", [])
    return staff.page(
        f"listings/{template}.html",
        status=status,
        nav="admin",
        tabs=tabs(staff),
        current=current,
        **context,
    )


def own_listing_or_404(staff: Staff, service_id: str) -> Details:
    """The listing of the staff member's organisation, else the HTML 404 page (another
    organisation's listing is "not found": nothing about it is shown or changed)."""
    found: uuid.UUID | None = parse_uuid(service_id)
    if found is None:
        raise StarletteHTTPException(404)
    try:
        return directory_owned.own_listing(staff.session, staff.caller, service_id=found)
    except ListingNotFound:
        raise StarletteHTTPException(404) from None
