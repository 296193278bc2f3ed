"""The hub as production runs it, for tests: `refhub serve` as its own process (2 uvicorn
workers on PostgreSQL, one on the embedded SQLite), a real Celery worker on Redis when the
back-end is PostgreSQL, the demo data, and HTTP clients signed in with the demo agencies' keys
(the start-up lives in bench/hub.py, shared with the benchmarks).

Every request a test makes has a client-side timeout: a hung worker fails the test, it
never hangs the suite.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

# The start-up is shared with the benchmarks (bench/submit.py, bench/search.py).
from bench.hub import (
    TIMEOUT,
    Agency,
    Hub,
    Target,
    demo_targets,
    make_data_dir,
    start_hub,
)

__all__ = [
    "TIMEOUT",
    "Agency",
    "Hub",
    "Target",
    "demo_targets",
    "make_data_dir",
    "start_hub",
    "summary",
]

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "summary.json"


def summary(target: Target, note: str = "") -> dict[str, Any]:
    """The documented example case summary, addressed to `target`."""
    data: dict[str, Any] = copy.deepcopy(json.loads(EXAMPLE.read_text()))
    data["referral"]["kind"] = "referral"
    data["referral"]["referred_by"]["organization"]["reference"] = None
    data["referral"]["referred_to"]["organization"] = {"name": "Harbour Child Protection Service"}
    data["referral"]["referred_to"]["service"] = {
        "name": "Service",
        "reference": f"HealthcareService/{target.service_id}",
    }
    data["consent"] = {"reference": f"Consent/{target.consent_id}"}
    if note:
        data["referral"]["reason"] = note
    return data
