"""Keys: the key-encryption keys and how many client keys each wraps, whether a rotation is
unfinished, and the latest rotations (what `refhub keys status` shows). Read-only: rotating
and retiring stay with the operator's shell (`refhub keys rotate`, `retire-old`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from consent import errors as consent_errors
from consent import keys as consent_keys
from consent import vault as consent_vault
from gateway.audit import search as audit_search
from gateway.web.hub.common import hub_page
from gateway.web.shell import HubAdminDep, Staff

__all__ = ["key_status", "routes"]

routes = APIRouter(include_in_schema=False)


def key_status(staff: Staff) -> dict[str, object]:
    """The keyring and the client keys under each KEK (as `refhub keys status`)."""
    settings = staff.request.app.state.runtime.settings
    try:
        ring = consent_vault.load_keyring(settings.kek_path, settings.kek_previous_path)
    except consent_errors.KeyUnavailable as exc:
        return {"unavailable": exc.detail}
    in_use = consent_keys.keys_in_use(staff.session)
    return {
        "unavailable": "",
        "current": (ring.current.id, in_use.get(ring.current.id, 0)),
        "previous": [(kek.id, in_use.get(kek.id, 0)) for kek in ring.previous],
        "missing": sorted((k, n) for k, n in in_use.items() if k not in ring.ids),
        "pending": consent_keys.pending(in_use, ring),
    }


@routes.get("/hub/keys", response_class=HTMLResponse)
def keys(staff: HubAdminDep) -> HTMLResponse:
    history, _total = audit_search.search(
        staff.session, staff.caller, audit_search.Filters(action="keys."), limit=10
    )
    return hub_page(staff, "keys", "keys", keys=key_status(staff), history=history)
