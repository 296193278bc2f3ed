"""What every clients page needs first: the client of its path (or the HTML 404), and how
a refusal the person cannot fix on the page is shown."""

from __future__ import annotations

from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from consent import clients as consent_clients
from consent.errors import ConsentNotFound
from consent.models import Client
from gateway.web.clients.wording import Words
from gateway.web.shell import Staff, parse_uuid
from kernel.errors import RefhubError

__all__ = ["client_or_404", "refused", "words"]


def client_or_404(staff: Staff, client_id: str) -> Client:
    """The client of a path, if the caller's organisation may see them (else the 404 page)."""
    found = parse_uuid(client_id)
    if found is None:
        raise StarletteHTTPException(404)
    try:
        return consent_clients.get_client(staff.session, staff.caller, client_id=found)
    except ConsentNotFound:
        raise StarletteHTTPException(404) from None


def refused(staff: Staff, error: RefhubError) -> HTMLResponse:
    """A refusal the person cannot fix on this page (their role, a missing key)."""
    return staff.page(
        "clients/refused.html", status=error.status, nav="clients", detail=error.detail
    )


def words(staff: Staff) -> Words:
    return Words(staff.gettext, staff.language)
