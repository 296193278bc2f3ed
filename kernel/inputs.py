"""Input types for API shapes that accept only what their schema says.

Pydantic's lax mode reads a number as a date or a time (`0` is 1970-01-01, `"0.5"` half
a second past the epoch), `0` and `1` as booleans and `false` as the number 0: inputs the
OpenAPI document calls invalid, quietly turned into data. These types refuse them while
still reading ISO 8601 text, as JSON and query strings carry dates.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, StrictBool, StrictFloat, StrictInt

__all__ = ["IsoDate", "IsoDateTime", "StrictBool", "StrictFloat", "StrictInt"]

_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _iso_text(value: Any) -> Any:
    """Dates and times arrive as ISO 8601 text (or already parsed), never as numbers."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or _NUMBER.fullmatch(value):
        raise ValueError("give an ISO 8601 date or date-time as text, not a number")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_text)]
IsoDateTime = Annotated[dt.datetime, BeforeValidator(_iso_text)]
