"""Operator endpoints: liveness, readiness with each dependency, metrics, capability."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from pydantic import SecretStr

from gateway.app import create_app
from gateway.runtime import Runtime
from kernel.settings import Settings


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_database_and_embedded_delivery(client: TestClient, backend: str) -> None:
    body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"ok": True, "detail": backend}
    assert body["checks"]["broker"]["detail"] == "embedded in-process delivery"


def test_readyz_is_503_when_the_broker_is_down(settings: Settings) -> None:
    down = Runtime(settings.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"}))
    with TestClient(create_app(down, run_relay=False)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_readyz_with_the_real_broker(settings: Settings, redis_url: str) -> None:
    up = Runtime(settings.model_copy(update={"broker_url": redis_url}))
    with TestClient(create_app(up, run_relay=False)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == {"ok": True, "detail": "redis"}


def test_metrics_count_requests_by_route(client: TestClient) -> None:
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'refhub_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'refhub_outbox_events{state="pending"}' in text


@pytest.mark.parametrize(
    ("header", "status"),
    [(None, 401), ("Bearer wrong", 401), ("Bearer a-long-enough-metrics-token", 200)],
)
def test_metrics_token_when_configured(settings: Settings, header: str | None, status: int) -> None:
    guarded = Runtime(
        settings.model_copy(update={"metrics_token": SecretStr("a-long-enough-metrics-token")})
    )
    with TestClient(create_app(guarded, run_relay=False)) as client:
        headers = {"Authorization": header} if header else {}
        assert client.get("/metrics", headers=headers).status_code == status


def test_capability_statement_is_valid_fhir_r4(client: TestClient) -> None:
    response = client.get("/fhir/metadata")
    assert response.headers["content-type"] == "application/fhir+json"
    statement = CapabilityStatement.model_validate(response.json())
    assert statement.fhirVersion == "4.0.1"
    assert statement.kind == "instance"
