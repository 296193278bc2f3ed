"""FHIR JSON only: a request under /fhir for XML (by `_format` or `Accept`) is answered 406
with an OperationOutcome, never JSON labelled as success; JSON requests keep working."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gateway.fhir.formats import refused_format

PATHS = ("/fhir/metadata", "/fhir/Task", "/fhir/HealthcareService", "/fhir/Subscription")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "fmt", ["xml", "application/fhir+xml", "application/xml", "text/xml", "ttl", "html"]
)
def test_format_other_than_json_is_refused_with_406(
    client: TestClient, path: str, fmt: str
) -> None:
    response = client.get(path, params={"_format": fmt})
    assert response.status_code == 406, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-supported"
    assert "_format" in outcome["issue"][0]["details"]["text"]


@pytest.mark.parametrize(
    "accept",
    [
        "application/fhir+xml",
        "application/xml, text/xml;q=0.5",
        "application/fhir+xml;fhirVersion=4.0",
    ],
)
def test_an_accept_admitting_only_xml_is_refused_with_406(client: TestClient, accept: str) -> None:
    for method, path in (("GET", "/fhir/metadata"), ("POST", "/fhir/Subscription")):
        response = client.request(method, path, headers={"Accept": accept}, json={})
        assert response.status_code == 406, (method, path, response.text)
        assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("fmt", ["json", "application/fhir+json", "application/json"])
def test_json_formats_keep_working(client: TestClient, fmt: str) -> None:
    response = client.get("/fhir/metadata", params={"_format": fmt})
    assert response.status_code == 200
    assert response.json()["resourceType"] == "CapabilityStatement"


@pytest.mark.parametrize(
    "accept",
    [
        "application/fhir+json",
        "application/json",
        "*/*",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "application/fhir+xml;q=1, application/fhir+json;q=0.5",
    ],
)
def test_an_accept_admitting_json_keeps_working(client: TestClient, accept: str) -> None:
    response = client.get("/fhir/metadata", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.json()["resourceType"] == "CapabilityStatement"


def test_other_surfaces_are_not_concerned(client: TestClient) -> None:
    assert client.get("/healthz", params={"_format": "xml"}).status_code == 200
    # an unencoded `+` arrives as a space and still means FHIR JSON
    assert refused_format("_format=application/fhir+json", None) is None
    assert refused_format("_format=application/fhir+xml", None) is not None
    # q=0 excludes the only JSON range
    assert refused_format("", "application/fhir+json;q=0, application/fhir+xml") is not None
