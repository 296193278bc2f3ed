"""Turning uploaded bytes into text: UTF-8 (with or without BOM), or UTF-16 with a BOM.

Anything else is refused with the byte offset and line of the first bad byte. There is no
guessing fallback (Windows-1252, Latin-1): a wrong guess silently garbles clients' names.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from adapters.errors import EncodingRefused, MalformedInput

__all__ = ["MAX_JSON_DEPTH", "decode_text", "load_json"]

MAX_JSON_DEPTH = 64
"""How deeply objects and arrays may nest in a JSON input (FHIR packets reach about 10)."""


def decode_text(data: bytes | str, *, what: str = "input") -> str:
    """Decode uploaded bytes.

    Args:
        data: the raw upload (``str`` is returned unchanged, minus a leading BOM).
        what: how to name the input in errors (``"CSV file"``).

    Returns:
        The text, without a byte-order mark.

    Raises:
        EncodingRefused: the bytes are neither UTF-8 nor UTF-16 with a BOM.
    """
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise EncodingRefused(
                f"{what} starts with a UTF-16 byte-order mark but is not valid UTF-16",
                location=f"byte {exc.start}",
                expected="UTF-8 text",
            ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EncodingRefused(
            f"{what} is not UTF-8 (byte 0x{data[exc.start]:02x}); it may be Windows-1252 or "
            "Latin-1. Save it as 'CSV UTF-8' (Excel) or UTF-8 and upload it again",
            location=f"line {line}, byte {exc.start}",
            expected="UTF-8 text",
        ) from None


def load_json(text: str, *, expected: str) -> Any:
    """Parse JSON text, refusing what is not JSON or nests deeper than `MAX_JSON_DEPTH`.

    Raises:
        MalformedInput: not JSON (with line and column), or nested too deeply (a hostile
            input of thousands of levels would otherwise exhaust the interpreter's stack).
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedInput(
            f"not valid JSON: {exc.msg}",
            location=f"line {exc.lineno}, column {exc.colno}",
            expected=expected,
        ) from None
    except RecursionError:
        value = None
        depth = MAX_JSON_DEPTH + 1
    else:
        depth = _depth(value)
    if depth > MAX_JSON_DEPTH:
        raise MalformedInput(
            f"the JSON nests more than {MAX_JSON_DEPTH} levels deep", expected=expected
        )
    return value


def _depth(value: Any) -> int:
    """Nesting depth, without recursion (so a deep input cannot exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            items: Any = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        deepest = max(deepest, level)
        if level > MAX_JSON_DEPTH:
            return level
        stack.extend((child, level + 1) for child in items)
    return deepest
