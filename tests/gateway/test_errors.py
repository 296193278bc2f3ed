"""Errors reach callers as problem JSON (or OperationOutcome on /fhir), never as traces."""

from __future__ import annotations

from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from fhir.resources.R4B.operationoutcome import OperationOutcome


def test_unknown_route_is_problem_json_with_request_id(client: TestClient) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404 and body["type"] == "urn:refhub:problem:not-found"
    assert body["instance"] == "/no/such/thing"
    assert body["request_id"] == response.headers["x-request-id"]


def test_fhir_routes_answer_with_operation_outcome(client: TestClient) -> None:
    response = client.get("/fhir/Nothing/123")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/fhir+json"
    outcome = OperationOutcome.model_validate(response.json())
    assert outcome.issue[0].code == "not-found"


def test_wrong_method_is_405(client: TestClient) -> None:
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.json()["code"] == "method-not-allowed"


def test_caller_request_id_is_kept_when_well_formed(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-12345-xyz"}).headers["x-request-id"]
        == "abc-12345-xyz"
    )
    forged = client.get("/healthz", headers={"X-Request-ID": "bad id\r\nSet-Cookie: x"})
    assert forged.headers["x-request-id"] != "bad id\r\nSet-Cookie: x"
    assert len(forged.headers["x-request-id"]) == 32


def test_crash_gives_500_without_trace(app: FastAPI, client: TestClient) -> None:
    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    @app.get("/fhir/crash")
    def fhir_crash() -> None:
        raise RuntimeError("secret internals")

    response = client.get("/crash")
    assert response.status_code == 500
    assert "hunter2" not in response.text and "Traceback" not in response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]
    fhir = client.get("/fhir/crash")
    assert fhir.status_code == 500
    assert fhir.json()["resourceType"] == "OperationOutcome"
    assert "secret internals" not in fhir.text


def test_invalid_input_lists_errors_without_echoing_input(app: FastAPI, client: TestClient) -> None:
    @app.get("/echo")
    def echo(age: int = Query(ge=0)) -> dict[str, int]:
        return {"age": age}

    response = client.get("/echo", params={"age": "Amina-1990"})
    assert response.status_code == 400  # a bad query parameter: a bad request
    body = response.json()
    assert body["errors"][0]["location"] == "query.age"
    assert "Amina" not in response.text

    @app.post("/echo")
    def echo_body(body: dict[str, int]) -> dict[str, int]:
        return body

    unprocessable = client.post("/echo", json={"age": "Amina-1990"})
    assert unprocessable.status_code == 422  # a body against its schema: unprocessable
    assert unprocessable.json()["errors"][0]["location"] == "body.age"
    assert "Amina" not in unprocessable.text
