"""A submission signed by the agency (compact JWS) is verified against its registered keys;
a tampered or foreign signature is refused, audited, and stores nothing. The signing side
uses jwcrypto, independent of the hub's joserfc."""

from __future__ import annotations

import json

from jwcrypto import jwk, jws
from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel.audit import AuditRecord
from tests.gateway.workflow.conftest import Network


def _sign(network: Network, payload: bytes, *, kid: str | None = None) -> str:
    registered = network.sender.registered
    assert registered is not None
    key_id, (alg, key) = next(iter(registered.keys.items()))
    private = jwk.JWK.from_json(json.dumps(key.as_dict(private=True)))
    token = jws.JWS(payload)
    token.add_signature(private, alg=alg, protected=json.dumps({"alg": alg, "kid": kid or key_id}))
    return str(token.serialize(compact=True))


def _refusals(db: Session) -> list[AuditRecord]:
    return list(
        db.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "submission.signature", AuditRecord.outcome == "denied"
            )
        )
    )


def test_a_signed_summary_is_accepted_and_a_tampered_one_refused(
    network: Network, db: Session
) -> None:
    body = json.dumps(network.summary()).encode()
    signed = _sign(network, body)
    ok = network.sender.post(
        "/referrals?format=summary",
        content=signed,
        headers={"Content-Type": "application/jose"},
    )
    assert ok.status_code == 201, ok.text

    head, payload, signature = signed.split(".")
    other = _sign(network, json.dumps(network.summary(do_not_contact=True)).encode())
    tampered = ".".join([head, other.split(".")[1], signature])
    refused = network.sender.post(
        "/referrals?format=summary",
        content=tampered,
        headers={"Content-Type": "application/jose"},
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "signature-invalid"

    foreign_kid = _sign(network, body, kid="someone-elses-key")
    unknown = network.sender.post(
        "/referrals?format=summary",
        content=foreign_kid,
        headers={"Content-Type": "application/jose"},
    )
    assert unknown.status_code == 400
    none_alg = "eyJhbGciOiJub25lIn0." + payload + "."
    assert (
        network.sender.post(
            "/referrals?format=summary",
            content=none_alg,
            headers={"Content-Type": "application/jose"},
        ).status_code
        == 400
    )
    assert len(_refusals(db)) == 3
    assert network.sender.get("/referrals?box=outbox").json()["total"] == 1


def test_a_signed_transaction_bundle_to_post_fhir(network: Network) -> None:
    import adapters

    converted = adapters.convert(json.dumps(network.summary()).encode(), "summary", "fhir")
    bundle = converted.outputs[0].content
    data = bundle if isinstance(bundle, bytes) else bundle.encode()
    answer = network.sender.post(
        "/fhir", content=_sign(network, data), headers={"Content-Type": "application/jose"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["type"] == "transaction-response"
