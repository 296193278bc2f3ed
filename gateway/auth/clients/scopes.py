"""SMART system scopes: parse the v1 (`system/*.read`) and v2 (`system/Task.cruds`) forms.

Pure functions, no database: the token endpoint narrows requested scopes with `grantable`,
and routes ask `scope_allows(caller.scopes, "Task", "r")` before acting.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "INTERACTIONS",
    "SCOPES_SUPPORTED",
    "SystemScope",
    "grantable",
    "parse_scope",
    "scope_allows",
    "split_scopes",
]

#: SMART v2 interactions: create, read, update, delete, search (always in this order).
INTERACTIONS = "cruds"
#: SMART v1 permissions and the v2 interactions each stands for.
_V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}
_SCOPE = re.compile(r"system/(\*|[A-Z][A-Za-z]{0,63})\.([a-z*]{1,5})")
_MAX_SCOPES = 50

#: What /.well-known/smart-configuration advertises.
SCOPES_SUPPORTED = (
    "system/*.cruds",
    "system/*.rs",
    "system/*.read",
    "system/*.write",
    "system/*.*",
    "system/ServiceRequest.cruds",
    "system/Task.cruds",
    "system/Consent.rs",
)


@dataclass(frozen=True)
class SystemScope:
    """One parsed scope: a resource type (or `*` for every type) and its interactions."""

    text: str
    resource_type: str
    interactions: frozenset[str]


@functools.lru_cache(maxsize=1024)
def parse_scope(text: str) -> SystemScope | None:
    """The scope `text` names, or None when it is not a system scope this hub understands.

    v2 letters must be a non-empty subsequence of `cruds` (`rs`, `cud`, never `sr`);
    v2 query parameters (`?category=...`) and patient/user scopes are not understood.
    """
    match = _SCOPE.fullmatch(text)
    if match is None:
        return None
    resource_type, permission = match.group(1), match.group(2)
    letters = _V1_PERMISSIONS.get(permission)
    if letters is None:
        ordered = "".join(letter for letter in INTERACTIONS if letter in permission)
        if ordered != permission:
            return None
        letters = permission
    return SystemScope(text, resource_type, frozenset(letters))


def split_scopes(text: str) -> list[str]:
    """The space-separated scopes of an OAuth `scope` parameter, duplicates removed."""
    return list(dict.fromkeys(text.split()))[:_MAX_SCOPES]


def scope_allows(granted: frozenset[str], resource_type: str, interaction: str) -> bool:
    """True when one of the `granted` scopes permits `interaction` on `resource_type`.

    Args:
        granted: scope strings, e.g. a caller's `scopes`.
        resource_type: a FHIR resource type; `*` asks for every type, which only a
            wildcard scope grants.
        interaction: one of `c r u d s`.

    Raises:
        ValueError: `interaction` is not one of `c r u d s`.
    """
    if len(interaction) != 1 or interaction not in INTERACTIONS:
        raise ValueError(f"interaction must be one of {' '.join(INTERACTIONS)}")
    for text in granted:
        scope = parse_scope(text)
        if (
            scope is not None
            and interaction in scope.interactions
            and scope.resource_type in ("*", resource_type)
        ):
            return True
    return False


def grantable(requested: str, allowed: Iterable[str]) -> list[str]:
    """The requested scopes the allowed ones fully cover, in request order.

    A requested scope is granted as written when every interaction it asks for on its
    resource type is permitted by some allowed scope; anything else is dropped.
    """
    allowed_set = frozenset(allowed)
    granted = []
    for text in split_scopes(requested):
        scope = parse_scope(text)
        if scope is not None and all(
            scope_allows(allowed_set, scope.resource_type, letter) for letter in scope.interactions
        ):
            granted.append(text)
    return granted
