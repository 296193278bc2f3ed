"""The ``csv`` format: the refhub spreadsheet layout ↔ referral packets."""

from __future__ import annotations

from adapters.csv.read import read_csv
from adapters.csv.write import MEDIA_TYPE, write_csv
from adapters.format import Format

__all__ = ["FORMAT"]

FORMAT = Format("csv", "refhub CSV layout (one row per person)", MEDIA_TYPE, read_csv, write_csv)
