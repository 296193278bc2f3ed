"""Helpers shared by the workflow's FHIR routes: reading bodies, references, reasons."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ValidationError

from adapters import MalformedInput
from adapters.encoding import load_json
from gateway.workflow.errors import SubmissionInvalid
from gateway.workflow.states import REASON_SYSTEM

__all__ = ["as_json", "id_of", "reason_of", "validated"]


def as_json(data: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 422 saying why not."""
    try:
        value = load_json(data.decode("utf-8"), expected="a FHIR resource in JSON")
    except UnicodeDecodeError:
        raise SubmissionInvalid("The body is not UTF-8 JSON.") from None
    except MalformedInput as exc:
        raise SubmissionInvalid(f"The body is not usable JSON: {exc}.") from None
    if not isinstance(value, dict):
        raise SubmissionInvalid("The body must be a FHIR resource (a JSON object).")
    return value


def validated(model: type[BaseModel], body: dict[str, Any], what: str) -> None:
    """Check `body` with the R4B model; a 422 naming the first element that fails."""
    try:
        model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise SubmissionInvalid(
            f"Not a valid {what}: {where}: {first.get('msg')}",
            errors=[{"location": f"{what}.{where}", "message": str(first.get("msg"))}],
        ) from None


def id_of(reference: str | None, kind: str) -> uuid.UUID | None:
    """The id of a `kind/<uuid>` reference, else None."""
    if not reference or not reference.startswith(kind + "/"):
        return None
    try:
        return uuid.UUID(reference.split("/")[1])
    except ValueError:
        return None


def reason_of(concept: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """(hub reason code, text) of a Task.statusReason."""
    if not concept:
        return None, None
    code = None
    for coding in concept.get("coding", []):
        if coding.get("system") in (None, REASON_SYSTEM):
            code = coding.get("code")
    return code, concept.get("text")
