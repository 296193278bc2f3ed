"""The ``html`` format: packet → printable summary page (write only)."""

from __future__ import annotations

from adapters.format import Format
from adapters.html.render import MEDIA_TYPE, write_html

__all__ = ["FORMAT"]

FORMAT = Format("html", "printable HTML summary", MEDIA_TYPE, None, write_html)
