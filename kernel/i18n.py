"""Gettext catalogs compiled in memory with Babel (no build step, no .mo files to ship).

Each package with translated pages keeps `locale/<lang>/LC_MESSAGES/messages.po`; English
is the source language, so it needs no catalog.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

__all__ = ["compiled_catalog"]


@functools.cache
def compiled_catalog(locale_dir: Path, language: str) -> gettext.NullTranslations:
    """The catalog for `language` under `locale_dir` (English, or none: the source text)."""
    po = locale_dir / language / "LC_MESSAGES" / "messages.po"
    if language == "en" or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)
