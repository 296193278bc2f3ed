"""HTTP fixtures: the real app on the run's database, one rolled-back transaction a test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gateway.app import create_app
from gateway.dependencies import get_session
from gateway.runtime import Runtime
from kernel.db import end_transaction
from tests.fhir_schema import FhirAnswerCheck


@pytest.fixture
def app(runtime: Runtime, db: Session) -> FastAPI:
    application = create_app(runtime, run_relay=False)

    def _session() -> Iterator[Session]:
        try:
            yield db
        except BaseException as error:
            end_transaction(db, error)
            raise
        end_transaction(db, None)

    application.dependency_overrides[get_session] = _session
    application.add_middleware(FhirAnswerCheck)  # every FHIR answer meets the R4 schema
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


# Staff fixtures live in their own module; importing them here makes them available.
from tests.gateway.private_redis import private_redis  # noqa: E402, F401
from tests.gateway.staff import make_account, make_org, staff_client  # noqa: E402, F401
