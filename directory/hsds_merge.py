"""What an export gives back of an imported HSDS document (pure functions, no database).

An imported listing keeps its document as given (`source`) and the document refhub wrote
from its rows right after that import (`base`). An export builds the document from the rows
as they are now (`current`) and merges the three: where `current` differs from `base`,
refhub changed it (an edit, a moderation verdict, a new endpoint) and `current` wins;
where it does not, the source's value comes back as given (its `last_modified`, schedule
times and time zone, programs, funding, metadata, fields refhub does not model at all).

Lists of objects with ids merge item by item (by id, in `current`'s order): an item refhub
removed since the import is gone, one it added is there, one the import could not model
(a monthly schedule, an HSDS 3.1 capacity) stays.
"""

from __future__ import annotations

from typing import Any

__all__ = ["merge"]


def merge(source: Any, base: Any, current: Any) -> Any:
    """`current` where it differs from `base`, else `source`, object by object (so what
    refhub adds to every document, such as the links to an object's owner, is there)."""
    if isinstance(current, dict) and isinstance(base, dict) and isinstance(source, dict):
        return _merge_objects(source, base, current)
    if isinstance(current, list) and isinstance(base, list) and isinstance(source, list):
        merged = _merge_lists(source, base, current)
        if merged is not None:
            return merged
    return source if current == base else current


def _merge_objects(
    source: dict[str, Any], base: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in source.items():
        if key in base and key not in current:
            continue  # refhub removed it since the import
        if key not in base and key not in current:
            out[key] = value  # refhub does not model it: as given
    for key, value in current.items():
        if key in source and key in base:
            out[key] = merge(source[key], base[key], value)
        else:
            out[key] = value  # refhub set it since the import, or the source lacked it
    # The source's key order, then what refhub added.
    order = [k for k in source if k in out] + [k for k in out if k not in source]
    return {k: out[k] for k in order}


def _ids(items: list[Any]) -> dict[str, Any] | None:
    """Items by id, or None when the list is not a list of objects with distinct ids."""
    found: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return None
        found[item["id"]] = item
    return found if len(found) == len(items) else None


def _merge_lists(source: list[Any], base: list[Any], current: list[Any]) -> list[Any] | None:
    """Lists of objects with ids, item by item; None for other lists."""
    by_source, by_base, by_current = _ids(source), _ids(base), _ids(current)
    if by_source is None or by_base is None or by_current is None:
        return None
    out = []
    for item in source:  # the source's order for what it had
        key = item["id"]
        if key in by_current:
            out.append(merge(item, by_base.get(key, item), by_current[key]))
        elif key not in by_base:
            out.append(item)  # never modelled: refhub cannot have removed it
    out += [item for key, item in by_current.items() if key not in by_source]
    return out
