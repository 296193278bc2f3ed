"""The content types a document may have, each recognised from its bytes (magic numbers).

The declared type must be on the allow-list and the bytes must be of that type: a PNG
declared as a PDF, an executable declared as text, a spreadsheet declared as DOCX are all
refused. The checks are deliberately narrow (no general-purpose sniffing): only the types
below are ever accepted. Office formats are ZIP files; only the central directory is read
(no entry is decompressed), so a ZIP bomb costs nothing.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

__all__ = ["ALLOWED", "detect", "matches", "normalise"]

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"

_ODT_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.text"


def _is_pdf(data: bytes) -> bool:
    return data.startswith(b"%PDF-")


def _is_png(data: bytes) -> bool:
    return data.startswith(b"\x89PNG\r\n\x1a\n")


def _is_jpeg(data: bytes) -> bool:
    return data.startswith(b"\xff\xd8\xff")


def _zip_names(data: bytes) -> list[str] | None:
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return None


def _is_docx(data: bytes) -> bool:
    names = _zip_names(data)
    return names is not None and "[Content_Types].xml" in names and "word/document.xml" in names


def _is_odt(data: bytes) -> bool:
    # ODF: the first entry is "mimetype", stored uncompressed, at offset 30 of the file.
    return data[30 : 30 + len(_ODT_MIMETYPE)] == _ODT_MIMETYPE and _zip_names(data) is not None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data or _binary_type(data) is not None:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_BINARY: dict[str, Callable[[bytes], bool]] = {
    PDF: _is_pdf,
    PNG: _is_png,
    JPEG: _is_jpeg,
    ODT: _is_odt,
    DOCX: _is_docx,
}

#: Every accepted type and its check.
ALLOWED: dict[str, Callable[[bytes], bool]] = {**_BINARY, TEXT: _is_text}


def _binary_type(data: bytes) -> str | None:
    for name, check in _BINARY.items():
        if check(data):
            return name
    return None


def normalise(declared: str | None) -> str:
    """The media type without parameters, lower case (`Text/Plain; charset=utf-8` →
    `text/plain`)."""
    return (declared or "").split(";", 1)[0].strip().lower()


def detect(data: bytes) -> str | None:
    """The allowed type the bytes are, or None."""
    found = _binary_type(data)
    if found is not None:
        return found
    return TEXT if _is_text(data) else None


def matches(content_type: str, data: bytes) -> bool:
    """True when `data` is of the allowed `content_type` (already normalised)."""
    check = ALLOWED.get(content_type)
    return check is not None and check(data)
