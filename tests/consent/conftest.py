"""Consent fixtures: the KEK file exists for the whole run."""

from __future__ import annotations

import pytest

from kernel.settings import Settings
from tests.consent.factories import ensure_kek


@pytest.fixture(autouse=True)
def _kek(settings: Settings) -> None:
    ensure_kek()


# The HTTP fixtures of the gateway suite (the real app on the run's database).
from tests.gateway.conftest import app, client  # noqa: E402, F401
from tests.gateway.staff import make_account, make_org, staff_client  # noqa: E402, F401
