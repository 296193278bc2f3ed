"""The client consent page (public HTML, in the client's language).

`GET /consent/page/open?token=...` asks for the second check; the form posts the token in
its body, so on success the browser is redirected (303) to `/consent/page` with a short
session cookie and the token has left the address bar. Refusals render a page in the
client's language and keep their audit record (the transaction commits).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from consent import i18n, page_access, service
from consent.errors import ConsentError, PageAccessRefused, PageSessionMissing, PageTokenRefused
from consent.models import ConsentStatus, PageSession, RevokedVia
from consent.ports import Organisations
from kernel.db import utcnow

__all__ = ["COOKIE", "make_page_router"]

COOKIE = "refhub_consent_page"
_PATH = "/consent/page"
_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


def make_page_router(
    session_dependency: Callable[..., Any], *, organisations: Organisations, base_url: str
) -> APIRouter:
    """The public consent-page routes (authenticated by link token, then page cookie)."""
    # HTML pages for a browser, like /ui: not part of the API the OpenAPI document states.
    router = APIRouter(prefix=_PATH, include_in_schema=False)
    db = Depends(session_dependency, scope="function")
    secure = base_url.startswith("https://")

    def html(template: str, language: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = i18n.render(template, language, **context)
        return HTMLResponse(body, status_code=status, headers=_HEADERS)

    def message(language: str, title: str, text: str, status: int) -> HTMLResponse:
        gettext = i18n.translations(i18n.language_or_default(language)).gettext
        return html("message.html", language, status, title=gettext(title), text=gettext(text))

    def signed_in(request: Request, session: Session) -> PageSession:
        return page_access.page_session(session, request.cookies.get(COOKIE))

    def lang_for(request: Request, page: PageSession) -> str:
        return i18n.language_or_default(request.query_params.get("lang"), page.language)

    def missing(language: str) -> HTMLResponse:
        return message(
            language,
            "Your session has ended",
            "Open the link your case worker gave you again to continue.",
            401,
        )

    @router.get("/open", response_class=HTMLResponse)
    def open_form(token: str = "", lang: str | None = None, session: Session = db) -> HTMLResponse:
        """The second-check form for a link (nothing is spent here)."""
        issued = page_access.link_language(session, token)
        return html("open.html", i18n.language_or_default(lang, issued or "en"), token=token)

    @router.post("/open", response_class=HTMLResponse)
    def open_link(
        token: str = Form(""),
        check: str = Form(""),
        lang: str = Form("en"),
        session: Session = db,
    ) -> Response:
        try:
            secret, page = page_access.open_link(session, token=token, check=check)
        except PageTokenRefused:
            return message(
                lang,
                "This link cannot be used",
                "This link has expired, was already used, or the check did not match. "
                "Ask your case worker for a new link.",
                410,
            )
        response = RedirectResponse(f"{_PATH}?lang={page.language}", status_code=303)
        response.set_cookie(
            COOKIE,
            secret,
            max_age=page_access.SESSION_MINUTES * 60,
            path=_PATH,
            httponly=True,
            secure=secure,
            samesite="strict",
        )
        for key, value in _HEADERS.items():
            response.headers[key] = value
        return response

    @router.get("", response_class=HTMLResponse)
    def overview(request: Request, session: Session = db) -> HTMLResponse:
        try:
            page = signed_in(request, session)
        except PageSessionMissing:
            return missing(i18n.language_or_default(request.query_params.get("lang")))
        records = page_access.client_consents(session, page)
        provisions = service.provisions_of(session, records)
        given = page_access.disclosures(session, page.client_id)
        org_ids = {r.organisation_id for ps in provisions.values() for _, rs in ps for r in rs}
        for item in given:
            item["recipient_id"] = _uuid(item["recipient"])
            org_ids.add(item["recipient_id"])
        consents = [
            {"record": r, "provisions": provisions[r.id], "state": _state(r)} for r in records
        ]
        return html(
            "overview.html",
            lang_for(request, page),
            consents=consents,
            disclosures=given,
            names=organisations.names(session, [i for i in org_ids if i is not None]),
            csrf=page.csrf_token,
        )

    @router.post("/revoke", response_class=HTMLResponse)
    def revoke(
        request: Request,
        consent_id: str = Form(""),
        csrf_token: str = Form(""),
        session: Session = db,
    ) -> Response:
        """Withdraw one consent (one action); answers with its receipt."""
        try:
            page = signed_in(request, session)
        except PageSessionMissing:
            return missing("en")
        language = page.language
        if not secrets.compare_digest(csrf_token.encode(), page.csrf_token.encode()):
            return missing(language)
        series = _uuid(consent_id)
        try:
            if series is None:
                raise PageAccessRefused("No such consent.")
            record = page_access.revoke_as_client(session, page, series_id=series)
        except PageAccessRefused:
            return message(language, "Not found", "This is not one of your consents.", 404)
        except ConsentError:
            return message(language, "Not found", "This consent is no longer in force.", 409)
        return RedirectResponse(f"{_PATH}/receipts/{record.id}", status_code=303)

    @router.get("/receipts/{record_id}", response_class=HTMLResponse)
    def receipt(record_id: uuid.UUID, request: Request, session: Session = db) -> HTMLResponse:
        """A printable receipt of one consent version (a grant or a withdrawal)."""
        try:
            page = signed_in(request, session)
        except PageSessionMissing:
            return missing(i18n.language_or_default(request.query_params.get("lang")))
        language = lang_for(request, page)
        try:
            record = page_access.visible_record(session, page, record_id)
        except PageAccessRefused:
            return message(language, "Not found", "This is not one of your consents.", 404)
        provisions = service.provisions_of(session, [record])[record.id]
        org_ids = [r.organisation_id for _, rs in provisions for r in rs if r.organisation_id]
        return html(
            "receipt.html",
            language,
            record=record,
            provisions=provisions,
            names=organisations.names(session, org_ids),
        )

    @router.post("/signout", response_class=HTMLResponse)
    def signout(request: Request, session: Session = db) -> HTMLResponse:
        try:
            page = signed_in(request, session)
        except PageSessionMissing:
            return missing("en")
        page_access.end_session(session, page)
        response = message(page.language, "Sign out", "You have signed out.", 200)
        response.delete_cookie(COOKIE, path=_PATH)
        return response

    return router


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _state(record: Any) -> str:
    if record.status == ConsentStatus.ACTIVE:
        ended = record.period_end is not None and record.period_end <= utcnow()
        return "expired" if ended else "active"
    return "expired" if record.revoked_via == RevokedVia.EXPIRY else "withdrawn"
