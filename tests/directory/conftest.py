"""Directory fixtures: the HTTP app and staff fixtures, plus the demo directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from directory import demo
from gateway.runtime import Runtime
from tests.conftest import shared_data
from tests.gateway.conftest import app, client  # noqa: F401
from tests.gateway.staff import make_account, make_org, staff_client  # noqa: F401


@pytest.fixture
def demo_directory(db: Session) -> Session:
    demo.load(db, None)  # adds only what is missing: quick on a module's `demo_connection`
    return db


@pytest.fixture(scope="module")
def demo_connection(runtime: Runtime) -> Iterator[Connection]:
    """The demo directory written once for a module whose `db` is `db_on` this."""
    with shared_data(runtime, lambda session: demo.load(session, None)) as connection:
        yield connection
