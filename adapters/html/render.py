"""Packet → printable HTML page, for receivers without software. Every value is escaped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from fhir.resources.R4B.bundle import Bundle

from adapters import codes
from adapters.html.labels import LABELS, RTL, label
from adapters.packet.read import read_packets
from adapters.results import AdapterWarning, Output, WriteResult
from adapters.summary import model as m

__all__ = ["MEDIA_TYPE", "render_fragment", "render_summary", "write_html"]

MEDIA_TYPE = "text/html"
_CSS = """
body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;color:#111;line-height:1.4}
h1{font-size:1.5rem;border-bottom:2px solid #333}h2{font-size:1.1rem;margin-top:1.5rem}
dl{display:grid;grid-template-columns:14rem 1fr;gap:.2rem 1rem}dt{font-weight:600}
.alert{border:2px solid #a00;padding:.5rem;font-weight:600}
footer{margin-top:2rem;font-size:.8rem;color:#555}
@media print{body{margin:0}h2{break-after:avoid}}
"""


class _Page:
    def __init__(self, language: str, shift: int = 0) -> None:
        self.lang = language
        self.shift = shift  # added to every heading level (a fragment inside a page)
        self.parts: list[str] = []

    def t(self, key: str) -> str:
        return escape(label(self.lang, key))

    def h(self, key: str, level: int = 2) -> None:
        level = min(level + self.shift, 6)
        self.parts.append(f"<h{level}>{self.t(key)}</h{level}>")

    def fields(self, rows: Iterable[tuple[str, object]]) -> None:
        shown = [(k, v) for k, v in rows if v not in (None, "", [])]
        if not shown:
            return
        self.parts.append("<dl>")
        for key, value in shown:
            self.parts.append(f"<dt>{self.t(key)}</dt><dd>{self.value(value)}</dd>")
        self.parts.append("</dl>")

    def value(self, value: object) -> str:
        if isinstance(value, bool):
            return self.t("yes" if value else "no")
        return escape(str(value))

    def items(self, key: str, values: Sequence[str]) -> None:
        if values:
            self.h(key)
            lis = "".join(f"<li>{escape(v)}</li>" for v in values)
            self.parts.append(f"<ul>{lis}</ul>")


def _domain(key: str | None) -> str:
    return codes.DOMAINS[key].display if key else ""


def _name(name: m.Name | None) -> str:
    return " ".join(p for p in (name.given, name.family) if p) if name else ""


def _joined(*parts: str | None) -> str:
    return " — ".join(p for p in parts if p)


def _sentence(text: str) -> str:
    """A code's display as a reader expects it on its own (HL7's are lower case: "mother")."""
    return text[:1].upper() + text[1:]


def _worker(w: m.Worker | None) -> str:
    return _joined(w.name, w.position, w.phone, w.email) if w else ""


def _client(p: _Page, s: m.CaseSummary) -> None:
    c = s.client
    p.h("client")
    a = c.address
    prefs = c.contact_preferences
    langs = ", ".join(
        x.code + (f" ({label(p.lang, 'preferred')})" if x.preferred else "") for x in c.languages
    )
    p.fields(
        [
            ("name", _name(c.name)),
            ("birth_date", c.birth_date),
            ("gender", c.gender),
            (
                "identifiers",
                ", ".join(
                    f"{codes.IDENTIFIER_TYPES[i.type].display}: {i.value}" for i in c.identifiers
                ),
            ),
            (
                "address",
                ", ".join(
                    x
                    for x in (
                        (a.line, a.city, a.district, a.region, a.postal_code, a.country)
                        if a
                        else ()
                    )
                    if x
                ),
            ),
            ("phone", c.phone),
            ("email", c.email),
            ("languages", langs),
            ("interpreter", c.interpreter_needed),
            (
                "contact",
                _joined(
                    codes.CONTACT_METHODS[prefs.method].display if prefs and prefs.method else None,
                    prefs.instructions if prefs else None,
                ),
            ),
            ("safe_to_contact", prefs.safe_to_contact if prefs else None),
        ]
    )
    if s.minor:
        p.h("minor")
        p.fields(
            [
                ("separation", codes.SEPARATION[s.minor.separation].display),
                ("caregiver_informed", s.minor.caregiver_informed),
                ("not_informed_reason", s.minor.caregiver_not_informed_reason),
            ]
        )
    if s.family or s.household_size:
        p.h("family")
        p.fields([("household_size", s.household_size)])
        for f in s.family:
            p.fields(
                [
                    ("relationship", _sentence(codes.RELATIONSHIPS[f.relationship].display)),
                    ("name", _name(f.name)),
                    ("birth_date", f.birth_date),
                    ("gender", f.gender),
                    ("phone", f.phone),
                    ("caregiver", True if f.caregiver else None),
                ]
            )


def _body(s: m.CaseSummary, lang: str, shift: int) -> _Page:
    p = _Page(lang, shift)
    r = s.referral
    top = 1 + shift
    p.parts.append(f"<h{top}>{p.t(r.kind)} — {p.t('case')} {escape(s.case_id)}</h{top}>")
    if r.do_not_contact_client:
        p.parts.append(f'<p class="alert">{p.t("do_not_contact")}</p>')
    to = r.referred_to
    p.fields(
        [
            ("priority", label(lang, r.priority)),
            ("date", r.date),
            (
                "referred_by",
                _joined(r.referred_by.organization.name, _worker(r.referred_by.worker)),
            ),
            ("referred_to", _joined(to.organization.name, _worker(to.worker))),
            ("service", to.service.name if to.service else None),
            (
                "channel",
                codes.DELIVERY_CHANNELS[r.delivery_channel].display if r.delivery_channel else None,
            ),
            ("reason", r.reason),
        ]
    )
    p.items(
        "services_requested", [_joined(_domain(x.domain), x.details) for x in r.services_requested]
    )
    _client(p, s)
    p.items("needs", [_joined(_domain(n.domain), n.severity, n.description) for n in s.needs])
    p.items("risks", [_joined(_domain(x.domain), x.level, x.description) for x in s.risks])
    p.items("strengths", [_joined(n.description, _domain(n.domain)) for n in s.strengths])
    p.items("barriers", [_joined(n.description, _domain(n.domain)) for n in s.barriers])
    p.items(
        "goals",
        [_joined(g.description, _domain(g.domain), g.status, g.target_date) for g in s.goals],
    )
    p.items(
        "services_received",
        [_joined(_domain(x.domain), x.details, x.provider, x.date) for x in s.services_received],
    )
    if s.consent:
        p.h("consent")
        p.fields([("consent", _joined(s.consent.description, s.consent.reference))])
    if s.summary:
        p.h("summary")
        p.parts.append(f"<p>{escape(s.summary)}</p>".replace("\n", "<br>"))
    p.items("attachments", [_joined(a.title, a.content_type, a.url) for a in s.attachments])
    return p


def render_fragment(s: m.CaseSummary, language: str = "en", *, top_level: int = 2) -> str:
    """The same summary as :func:`render_summary`, as a fragment to place inside another
    page (the staff web application's referral page): no document, no style, the title at
    heading level ``top_level`` and the sections below it.

    Returns:
        The HTML text; every value from the summary is HTML-escaped.
    """
    lang = language if language in LABELS else "en"
    return "".join(_body(s, lang, max(top_level, 1) - 1).parts)


def render_summary(s: m.CaseSummary, language: str = "en") -> str:
    """A case summary as a complete, printable HTML document.

    Args:
        s: the summary (usually read from a packet, so already minimised).
        language: label language (``en``, ``fr``, ``ar``...; others fall back to English).

    Returns:
        The HTML text; every value from the summary is HTML-escaped.
    """
    lang = language if language in LABELS else "en"
    p = _body(s, lang, 0)
    r = s.referral
    direction = "rtl" if lang in RTL else "ltr"
    title = f"{label(lang, r.kind)} {s.case_id}"
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}" dir="{direction}">\n<head>\n'
        f'<meta charset="utf-8">\n<title>{escape(title)}</title>\n<style>{_CSS}</style>\n'
        f"</head>\n<body>\n{''.join(p.parts)}\n<footer>{p.t('footer')}</footer>\n"
        "</body>\n</html>\n"
    )


def write_html(packets: Sequence[Bundle], *, language: str = "en") -> WriteResult:
    """One printable HTML page per packet, labels in ``language`` where translated."""
    summaries, warnings, failures = read_packets(packets)
    base = language.split("-")[0].lower()
    if base not in LABELS:
        warnings.append(
            AdapterWarning(
                "defaulted",
                "language",
                f"no {language!r} translation; labels in English (available: {', '.join(LABELS)})",
            )
        )
    outputs = [
        Output(f"{s.case_id}.html", MEDIA_TYPE, render_summary(s, base), s.case_id)
        for s in summaries
    ]
    return WriteResult(tuple(outputs), tuple(warnings), tuple(failures))
