"""Reading and writing single CSV cells: dates (ISO, dd/mm/yyyy, Excel serials), yes/no,
lists, numbers, and spreadsheet formula escaping."""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["CellError", "escape", "parse_bool", "parse_date", "parse_int", "split", "unescape"]

_EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel's 1900 date system, leap-year bug included
_DMY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_ISO = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
_TRUE = {"yes", "y", "true", "1", "oui", "si", "sí", "نعم"}
_FALSE = {"no", "n", "false", "0", "non", "لا"}


class CellError(ValueError):
    """A cell value that cannot be read; ``expected`` says what would be accepted."""

    def __init__(self, message: str, expected: str) -> None:
        super().__init__(message)
        self.expected = expected


def parse_date(value: str, *, partial: bool = False) -> str:
    """A date cell → ``YYYY-MM-DD`` (or ``YYYY``/``YYYY-MM`` when ``partial``).

    Accepts ISO dates, ``dd/mm/yyyy`` and ``dd.mm.yyyy`` (day first), and Excel serial
    numbers (five digits, 1927-2173). ``mm/dd/yyyy`` is refused when it can be told apart.
    """
    expected = "YYYY-MM-DD" + (", YYYY-MM or YYYY" if partial else "") + ", or dd/mm/yyyy"
    if _ISO.match(value):
        if len(value) < 10 and not partial:
            raise CellError(f"{value!r} is not a full date", expected)
        y, m, d = ([*map(int, value.split("-")), 1, 1])[:3]
        try:
            dt.date(y, m, d)
        except ValueError:
            raise CellError(f"{value!r} is not a calendar date", expected) from None
        return value
    if match := _DMY.match(value):
        day, month, year = map(int, match.groups())
        if month > 12 and day <= 12:
            raise CellError(f"{value!r} looks like month/day/year; write it day first", expected)
        try:
            return dt.date(year, month, day).isoformat()
        except ValueError:
            raise CellError(f"{value!r} is not a calendar date", expected) from None
    if _SERIAL.match(value):
        return (_EXCEL_EPOCH + dt.timedelta(days=int(float(value)))).isoformat()
    raise CellError(f"{value!r} is not a date", expected + " (or an Excel date number)")


def parse_bool(value: str) -> bool:
    """``yes``/``no`` (and y/n, true/false, 1/0, oui/non, نعم/لا) → bool."""
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise CellError(f"{value!r} is not yes or no", "yes or no")


def parse_int(value: str) -> int:
    """A whole number; ``4.0`` (as spreadsheets write it) is accepted."""
    try:
        number = float(value)
    except ValueError:
        raise CellError(f"{value!r} is not a number", "a whole number") from None
    if not number.is_integer():
        raise CellError(f"{value!r} is not a whole number", "a whole number")
    return int(number)


def split(value: str) -> list[str]:
    """A ``|``-separated list cell → its items (trimmed, empty items dropped)."""
    return [item.strip() for item in value.split("|") if item.strip()]


def _needs_escape(value: str) -> bool:
    if not value:
        return False
    first = value[0]
    if first in "=@\t\r'":
        return True
    return first in "+-" and (len(value) == 1 or not value[1].isdigit())


def escape(value: str) -> str:
    """Stop spreadsheets running a cell as a formula: prefix ``'`` where needed."""
    return "'" + value if _needs_escape(value) else value


def unescape(value: str) -> str:
    """Undo :func:`escape`."""
    if value.startswith("'") and _needs_escape(value[1:]):
        return value[1:]
    return value
