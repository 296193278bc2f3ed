"""What a FHIR-only integrator reads: the transaction's locations, the packet's resources
behind the ServiceRequest, vreads, and Task searches that carry the outcome."""

from __future__ import annotations

import json
from typing import Any

import adapters
from tests.directory.factories import make_listing
from tests.fhir_schema import assert_valid
from tests.gateway.workflow.conftest import Agency, Network

FHIR = {"Content-Type": "application/fhir+json"}


def _bundle(network: Network) -> dict[str, Any]:
    converted = adapters.convert(json.dumps(network.summary()).encode(), "summary", "fhir")
    content = converted.outputs[0].content
    value: dict[str, Any] = json.loads(content)
    return value


def _references(node: Any) -> list[str]:
    if isinstance(node, list):
        return [r for item in node for r in _references(item)]
    if not isinstance(node, dict):
        return []
    found = [node["reference"]] if isinstance(node.get("reference"), str) else []
    return found + [r for k, v in node.items() if k != "contained" for r in _references(v)]


def _task_of(answer: dict[str, Any]) -> str:
    return next(
        e["response"]["location"].split("/")[1]
        for e in answer["entry"]
        if e["response"].get("location", "").startswith("Task/")
    )


def test_one_response_per_request_entry_and_every_location_reads(network: Network) -> None:
    bundle = _bundle(network)
    sent = network.sender.post("/fhir", json=bundle, headers=FHIR)
    assert sent.status_code == 200, sent.text
    answer = sent.json()
    assert len(answer["entry"]) == len(bundle["entry"])
    withheld = 0
    for request, response in zip(bundle["entry"], answer["entry"], strict=True):
        kind = request["resource"]["resourceType"]
        result = response["response"]
        if "location" not in result:  # consent withholds it from the receiver: not stored
            assert result["status"].startswith("204") and result["outcome"]["issue"]
            withheld += 1
            continue
        assert result["location"].split("/")[0] == kind
        read = network.sender.get(f"/fhir/{result['location']}")
        assert read.status_code == 200, (result["location"], read.text)
        assert read.json()["resourceType"] == kind
        assert read.json()["id"] == result["location"].split("/")[1]
    assert withheld  # the example holds health data and a document the consent withholds
    replay = network.sender.post(
        "/fhir", json=bundle, headers={**FHIR, "Idempotency-Key": "one"}
    ).json()
    again = network.sender.post(
        "/fhir", json=bundle, headers={**FHIR, "Idempotency-Key": "one"}
    ).json()
    assert [e["response"].get("location") for e in replay["entry"]] == [
        e["response"].get("location") for e in again["entry"]
    ]


def test_task_vread_shows_each_version(network: Network) -> None:
    task_id = _task_of(network.sender.post("/fhir", json=_bundle(network), headers=FHIR).json())
    accepted = network.receiver.post(f"/referrals/{task_id}/status", json={"status": "accepted"})
    assert accepted.status_code == 200, accepted.text
    first = network.sender.get(f"/fhir/Task/{task_id}/_history/1")
    second = network.sender.get(f"/fhir/Task/{task_id}/_history/2")
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["status"], first.json()["meta"]["versionId"]) == ("requested", "1")
    assert (second.json()["status"], second.json()["meta"]["versionId"]) == ("accepted", "2")
    assert network.sender.get(f"/fhir/Task/{task_id}/_history/3").status_code == 404
    assert network.second.get(f"/fhir/Task/{task_id}/_history/1").status_code == 404


def test_the_receiver_resolves_every_reference_of_the_service_request(
    network: Network,
) -> None:
    # both agencies listed in the directory, as in a network where each takes referrals
    make_listing(network.db, network.sender.id, name="Harbour intake")
    network.db.commit()
    rid = network.submit().json()["id"]
    task = network.receiver.get(f"/fhir/Task/{rid}").json()
    assert task["requester"]["reference"] == f"Organization/{network.sender.id}"
    assert task["owner"]["reference"] == f"Organization/{network.receiver.id}"
    request = network.receiver.get(f"/fhir/{task['focus']['reference']}").json()
    assert_valid(request)
    references = _references(request)
    assert references and not [r for r in references if r.startswith("urn:")]
    assert request["subject"]["reference"] == f"Patient/{network.client_id}"
    assert request["requester"]["reference"] == f"Organization/{network.sender.id}"
    assert request["performer"][0]["reference"] == f"Organization/{network.receiver.id}"
    assert request["authoredOn"]
    assert any(
        c["system"].endswith("SDOHCC-CodeSystemTemporaryCodes")
        for cat in request["category"]
        for c in cat["coding"]
    )
    supporting = [
        r
        for r in references
        if r.split("/")[0] in ("Condition", "Observation", "Goal", "DocumentReference")
    ]
    assert supporting
    for reference in references:
        if reference.startswith("Consent/"):
            continue  # the consent helper's read rules
        read = network.receiver.get(f"/fhir/{reference}")
        assert read.status_code == 200, (reference, read.text)
        assert_valid(read.json())
        assert not [r for r in _references(read.json()) if r.startswith("urn:")]
    assert network.second.get(f"/fhir/{supporting[0]}").status_code == 404

    revoked = network.sender.post(
        f"/consent/consents/{network.consent_id}/revoke", json={"reason": "client-withdrew"}
    )
    assert revoked.status_code in (200, 201), revoked.text
    assert network.receiver.get(f"/fhir/{supporting[0]}").status_code == 403
    assert network.receiver.get(f"/fhir/{task['focus']['reference']}").status_code == 403


def _complete(agency: Agency, rid: str, **extra: Any) -> Any:
    for status in ("accepted", "in-progress"):
        assert agency.post(f"/referrals/{rid}/status", json={"status": status}).status_code == 200
    return agency.post(f"/referrals/{rid}/status", json={"status": "completed", **extra})


def test_completion_requires_an_output_on_every_surface(network: Network) -> None:
    rid = network.submit().json()["id"]
    refused = _complete(network.receiver, rid)
    assert refused.status_code == 422 and "output" in refused.text
    task = network.receiver.get(f"/fhir/Task/{rid}").json()
    task["status"] = "completed"
    put = network.receiver.put(f"/fhir/Task/{rid}", json=task, headers=FHIR)
    assert put.status_code == 422
    issues = put.json()["issue"]
    assert any(i.get("expression") == ["Task.output"] for i in issues)
    assert network.sender.get(f"/referrals/{rid}").json()["status"] == "in-progress"


def test_json_api_outputs_have_the_gravity_shape_and_searches_carry_them(
    network: Network,
) -> None:
    rid = network.submit().json()["id"]
    done = _complete(network.receiver, rid, outputs=[{"description": "Four sessions held"}])
    assert done.status_code == 200, done.text
    task = network.sender.get(f"/fhir/Task/{rid}").json()
    (output,) = task["output"]
    assert output["type"]["coding"][0] == {
        "system": "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes",
        "code": "resulting-activity",
        "display": "Resulting Activity",
    }
    (procedure,) = task["contained"]
    assert output["valueReference"]["reference"] == f"#{procedure['id']}"
    assert procedure["status"] == "completed"
    assert procedure["basedOn"] == [{"reference": task["focus"]["reference"]}]
    assert procedure["code"]["coding"][0]["system"] == "http://snomed.info/sct"
    assert procedure["subject"] == {"reference": f"Patient/{network.client_id}"}
    assert procedure["performedDateTime"]
    assert_valid(task)

    found = network.sender.get(f"/fhir/Task?_id={rid}").json()
    assert [e["resource"] for e in found["entry"]] == [task]


def test_status_reason_has_text_and_a_rejection_without_one_is_refused(
    network: Network,
) -> None:
    rid = network.submit().json()["id"]
    rejected = network.receiver.post(
        f"/referrals/{rid}/status", json={"status": "rejected", "reason": "no-capacity"}
    )
    assert rejected.status_code == 200, rejected.text
    reason = network.sender.get(f"/fhir/Task/{rid}").json()["statusReason"]
    assert reason["coding"][0]["code"] == "no-capacity" and reason["text"]


def test_a_sent_communication_reads_at_its_location(network: Network) -> None:
    rid = network.submit().json()["id"]
    message = {
        "resourceType": "Communication",
        "status": "completed",
        "partOf": [{"reference": f"Task/{rid}"}],
        "payload": [{"contentString": "Is Tuesday fine?"}],
    }
    posted = network.receiver.post("/fhir/Communication", json=message, headers=FHIR)
    assert posted.status_code == 201, posted.text
    location = posted.headers["location"].split("/fhir/")[1]
    assert location.endswith("/_history/1")
    read = network.sender.get(f"/fhir/{location}")
    assert read.status_code == 200 and read.json()["payload"][0]["contentString"] == (
        "Is Tuesday fine?"
    )
    assert read.json()["sender"]["reference"] == f"Organization/{network.receiver.id}"
    assert read.json()["recipient"][0]["reference"] == f"Organization/{network.sender.id}"
    assert network.second.get(f"/fhir/{location}").status_code == 404

    batch = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": {**message, "payload": [{"contentString": "Yes, 10:00."}]},
             "request": {"method": "POST", "url": "Communication"}},
        ],
    }  # fmt: skip
    answered = network.sender.post("/fhir", json=batch, headers=FHIR)
    assert answered.status_code == 200, answered.text
    (entry,) = answered.json()["entry"]
    again = network.receiver.get(f"/fhir/{entry['response']['location']}")
    assert again.status_code == 200 and again.json()["payload"][0]["contentString"] == "Yes, 10:00."


def test_a_sender_with_its_own_server_gets_the_coordination_chain(network: Network) -> None:
    bundle = _bundle(network)
    for entry in bundle["entry"]:
        kind = entry["resource"]["resourceType"]
        if kind in ("Task", "ServiceRequest"):
            entry["fullUrl"] = f"https://ehr.example/fhir/{kind}/{kind.lower()}-1"
    answer = network.sender.post("/fhir", json=bundle, headers=FHIR).json()
    task_id = _task_of(answer)
    task = network.receiver.get(f"/fhir/Task/{task_id}").json()
    read = network.receiver.get(f"/fhir/{task['focus']['reference']}")
    assert read.status_code == 200, (task, read.text)
    request = read.json()
    assert request["intent"] == "filler-order"
    source_request = "https://ehr.example/fhir/ServiceRequest/servicerequest-1"
    assert [b["reference"] for b in request["basedOn"]] == [source_request]
    packet = network.receiver.get(f"/referrals/{task_id}/packet").json()
    stored = next(e["resource"] for e in packet["entry"] if e["resource"]["resourceType"] == "Task")
    assert stored["partOf"] == [
        {
            "type": "Task",
            "identifier": {
                "system": "urn:ietf:rfc:3986",
                "value": "https://ehr.example/fhir/Task/task-1",
            },
        }
    ]


def test_capability_lists_the_reads_and_vreads(network: Network) -> None:
    statement = network.sender.get("/fhir/metadata").json()
    by_type = {r["type"]: r for r in statement["rest"][0]["resource"]}
    for kind in ("Task", "ServiceRequest", "Communication", "Provenance", "Condition"):
        codes = {i["code"] for i in by_type[kind]["interaction"]}
        assert {"read", "vread"} <= codes, kind


def test_unknown_ids_versions_and_bad_messages_answer_operation_outcomes(
    network: Network,
) -> None:
    rid = network.submit().json()["id"]
    for url in (
        "/fhir/Condition/not-a-hub-id",
        f"/fhir/Condition/{'0' * 64}",
        f"/fhir/Task/{rid}/_history/9",
        f"/fhir/Communication/{rid}",
    ):
        answer = network.receiver.get(url)
        assert answer.status_code == 404, url
        assert answer.json()["resourceType"] == "OperationOutcome"
    task = network.receiver.get(f"/fhir/Task/{rid}").json()
    request_id = task["focus"]["reference"].split("/")[1]
    assert network.receiver.get(f"/fhir/ServiceRequest/{request_id}/_history/2").status_code == 404
    good = {
        "resourceType": "Communication",
        "status": "completed",
        "partOf": [{"reference": f"Task/{rid}"}],
        "payload": [{"contentString": "First"}],
    }
    bad = {**good, "partOf": [{"reference": "ServiceRequest/x"}]}
    batch = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": good}, {"resource": bad}],
    }
    refused = network.sender.post("/fhir", json=batch, headers=FHIR)
    assert refused.status_code == 422
    assert any(i.get("expression") == ["Communication.partOf"] for i in refused.json()["issue"])
    thread = network.sender.get(f"/fhir/Communication?part-of=Task/{rid}").json()
    assert "entry" not in thread  # nothing was sent
