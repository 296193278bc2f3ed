"""Turning uploaded bytes into text: UTF-8 (with or without BOM), or UTF-16 with a BOM.

Anything else is refused with the byte offset and line of the first bad byte. There is no
guessing fallback (Windows-1252, Latin-1): a wrong guess silently garbles clients' names.
"""

from __future__ import annotations

import codecs

from adapters.errors import EncodingRefused

__all__ = ["decode_text"]


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
