"""FHIR search plumbing shared by the directory's FHIR routes: parameters, tokens, Bundles."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Collection
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import ColumnElement, func, or_

from directory.errors import BadSearchParameter

__all__ = [
    "FHIR_JSON",
    "bundle",
    "fhir_response",
    "id_list",
    "last_updated",
    "number",
    "params",
    "string_match",
    "supported",
    "token",
]

FHIR_JSON = "application/fhir+json"


def fhir_response(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON)


def params(request: Request, allowed: tuple[str, ...]) -> list[tuple[str, str]]:
    strict = _strict(request)
    used = []
    for key, value in request.query_params.multi_items():
        name = key.split(":")[0]
        if name in allowed:
            used.append((key, value))
        elif strict:
            raise BadSearchParameter(key, "is not a supported search parameter here")
    return used


#: The FHIR R4 string-search modifiers these routes implement (see `string_match`).
STRING_MODIFIERS = frozenset({"exact", "contains"})


def _strict(request: Request) -> bool:
    return "handling=strict" in request.headers.get("prefer", "").replace(" ", "")


def supported(
    request: Request,
    allowed: Collection[str],
    *,
    strings: Collection[str] = (),
    includes: Collection[str] = (),
    revincludes: Collection[str] = (),
) -> list[tuple[str, str]]:
    """The query's parameters a search applies, in order (they make up the self link).

    Anything else is unsupported (FHIR search 3.1.1.5): an unknown parameter, a modifier
    other than `:exact`/`:contains` on one of the `strings` parameters, or an `_include` /
    `_revinclude` value not listed. It is ignored and left out, or refused (400) when the
    request says `Prefer: handling=strict`.
    """
    used = []
    for key, value in request.query_params.multi_items():
        name, _, modifier = key.partition(":")
        if name not in allowed:
            problem = "is not a supported search parameter here"
        elif modifier and not (name in strings and modifier in STRING_MODIFIERS):
            problem = f"the :{modifier} modifier is not supported here"
        elif name == "_include" and value not in includes:
            problem = f"supported values: {', '.join(sorted(includes)) or 'none'}"
        elif name == "_revinclude" and value not in revincludes:
            problem = f"supported values: {', '.join(sorted(revincludes)) or 'none'}"
        else:
            used.append((key, value))
            continue
        if _strict(request):
            raise BadSearchParameter(key, problem)
    return used


def string_match(column: Any, value: str, modifier: str) -> ColumnElement[bool]:
    """FHIR R4 string search on `column`: by default case-insensitive starts-with,
    `:exact` an exact case-sensitive match, `:contains` a case-insensitive substring.
    Comma-separated values (`\\,` for a literal comma) match any of them."""
    conditions: list[ColumnElement[bool]] = []
    for part in re.split(r"(?<!\\),", value):
        text = part.replace("\\,", ",")
        if modifier == "exact":
            conditions.append(column == text)
            continue
        escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = ("%" if modifier == "contains" else "") + escaped + "%"
        conditions.append(func.lower(column).like(pattern, escape="\\"))
    return or_(*conditions)


def token(value: str, system: str | None, param: str) -> list[str]:
    codes = []
    for part in value.split(","):
        sys, _, code = part.rpartition("|")
        if "|" in part and sys and system is not None and sys != system:
            raise BadSearchParameter(param, f"unknown code system {sys!r}")
        codes.append(code)
    return codes


def id_list(value: str, param: str) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(part.rsplit("/", 1)[-1]) for part in value.split(",")]
    except ValueError:
        raise BadSearchParameter(param, "must be a resource id or Type/id") from None


def last_updated(value: str) -> dt.datetime:
    _prefix, stamp = (value[:2], value[2:]) if value[:2] in {"ge", "gt"} else ("ge", value)
    try:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise BadSearchParameter("_lastUpdated", "use ge or gt with an ISO date/time") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def number(value: str, param: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise BadSearchParameter(param, "must be a whole number") from None
    if not low <= number <= high:
        raise BadSearchParameter(param, f"must be between {low} and {high}")
    return number


def bundle(
    request: Request,
    used: list[tuple[str, str]],
    matches: list[dict[str, Any]],
    included: list[dict[str, Any]],
    total: int,
    page: int,
    count: int,
    *,
    base_url: str,
) -> JSONResponse:
    """A searchset Bundle; links and full URLs start with the public `base_url`."""
    base = base_url + "/fhir"
    url = base_url + request.url.path.removeprefix(request.scope.get("root_path", ""))
    plain = [(k, v) for k, v in used if k != "_page"]
    links = [{"relation": "self", "url": f"{url}?{urlencode([*plain, ('_page', str(page))])}"}]
    if page * count < total:
        links.append(
            {"relation": "next", "url": f"{url}?{urlencode([*plain, ('_page', str(page + 1))])}"}
        )
    if page > 1:
        links.append(
            {
                "relation": "previous",
                "url": f"{url}?{urlencode([*plain, ('_page', str(page - 1))])}",
            }
        )
    entries = [
        {
            "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": mode},
        }
        for mode, group in (("match", matches), ("include", included))
        for r in group
    ]
    found: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": total}
    if links:
        found["link"] = links
    if entries:  # FHIR JSON has no empty arrays: a search with no results has no `entry`
        found["entry"] = entries
    return fhir_response(found)
