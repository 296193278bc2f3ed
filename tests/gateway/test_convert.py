"""`/convert` and `refhub convert`: agencies try their files; nothing is stored."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from kernel.caller import Role
from tests.conftest import REFHUB
from tests.gateway.staff import Account, MakeAccount, StaffClient

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
CSV = (EXAMPLES / "referral.csv").read_bytes()


def _bad_second_case(csv: bytes) -> bytes:
    """The example family plus a second case whose only person has an impossible birth date."""
    header = csv.splitlines()[0].decode()
    columns = header.split(",")
    row = dict.fromkeys(columns, "")
    row.update(
        {
            "case_id": "BAD-1",
            "role": "client",
            "given_name": "Test",
            "family_name": "Person",
            "birth_date": "2019-13-45",
        }
    )
    return csv + (",".join(row[c] for c in columns) + "\r\n").encode()


def test_anonymous_callers_are_refused(client: TestClient) -> None:
    response = client.post("/convert", params={"from": "csv", "to": "fhir"}, content=CSV)
    assert response.status_code == 401


def test_csv_becomes_valid_fhir_packets(
    make_account: MakeAccount, staff_client: Callable[[Account], StaffClient]
) -> None:
    client = staff_client(make_account(roles=(Role.CASE_WORKER,)))
    response = client.post(
        "/convert",
        params={"from": "csv", "to": "fhir"},
        content=CSV,
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True
    assert [case["key"] for case in body["cases"]] == ["SRS-2026-0123", "CP-0457"]
    bundle = Bundle.model_validate_json(body["outputs"][0]["content"])
    kinds = {entry.resource.get_resource_type() for entry in bundle.entry or []}
    assert {"Patient", "RelatedPerson", "ServiceRequest", "Task"} <= kinds


def test_one_bad_case_does_not_stop_the_others(
    make_account: MakeAccount, staff_client: Callable[[Account], StaffClient]
) -> None:
    client = staff_client(make_account())
    response = client.post(
        "/convert", params={"from": "csv", "to": "summary"}, content=_bad_second_case(CSV)
    )
    body = response.json()
    assert response.status_code == 200
    assert body["ok"] is False
    bad = next(case for case in body["cases"] if case["key"] == "BAD-1")
    assert bad["errors"]
    assert "birth_date" in bad["errors"][0]["location"]
    assert [o["case"] for o in body["outputs"]] == ["SRS-2026-0123", "CP-0457"]


def test_unknown_format_is_a_clear_problem(
    make_account: MakeAccount, staff_client: Callable[[Account], StaffClient]
) -> None:
    client = staff_client(make_account())
    response = client.post("/convert", params={"from": "xlsx", "to": "fhir"}, content=b"x")
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "unknown-format"
    assert "csv" in problem["detail"]


def test_oversized_input_is_refused(
    make_account: MakeAccount, staff_client: Callable[[Account], StaffClient]
) -> None:
    client = staff_client(make_account())
    response = client.post(
        "/convert", params={"from": "csv", "to": "fhir"}, content=b"a" * (5 * 1024 * 1024 + 1)
    )
    assert response.status_code == 413


def test_format_reference_is_public(app: FastAPI) -> None:
    http = TestClient(app)
    assert http.get("/convert/formats").json()["writable"] == ["summary", "csv", "fhir", "html"]
    template = http.get("/convert/template.csv")
    assert template.text.startswith("case_id,role,")
    assert http.get("/convert/summary.schema.json").json()["type"] == "object"


def test_cli_convert(tmp_path: Path, env_base: dict[str, str]) -> None:
    result = subprocess.run(
        [
            REFHUB,
            "convert",
            str(EXAMPLES / "summary.json"),
            "--from",
            "summary",
            "--to",
            "html",
            "--language",
            "fr",
            "--out",
            str(tmp_path),
        ],
        env=env_base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    [html] = list(tmp_path.glob("*.html"))
    assert 'lang="fr"' in html.read_text()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_bad_second_case(CSV))
    partial = subprocess.run(
        [REFHUB, "convert", str(bad), "--from", "csv", "--to", "fhir"],
        env=env_base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert partial.returncode == 1
    assert "error: case BAD-1" in partial.stderr
    assert (
        '"resourceType": "Bundle"' in partial.stdout or '"resourceType":"Bundle"' in partial.stdout
    )
    broken = subprocess.run(
        [REFHUB, "convert", "-", "--from", "fhir", "--to", "summary"],
        input="{not json",
        env=env_base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert broken.returncode == 2
    assert broken.stderr.startswith("refhub: error: ")
