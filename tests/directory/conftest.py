"""Directory fixtures: the HTTP app and staff fixtures, plus the demo directory."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from directory import demo
from tests.gateway.conftest import app, client  # noqa: F401
from tests.gateway.staff import make_account, make_org, staff_client  # noqa: F401


@pytest.fixture
def demo_directory(db: Session) -> Session:
    demo.load(db, None)
    return db
