"""The published HSDS 3.0 JSON schemas (../shared/standards), as jsonschema validators."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from referencing import Registry, Resource

STANDARDS = Path(__file__).resolve().parents[3] / "shared" / "standards" / "hsds" / "3.0"
if not STANDARDS.exists():
    STANDARDS = Path("/work/shared/standards/hsds/3.0")
SCHEMAS = STANDARDS / "schema"
EXAMPLES = STANDARDS / "examples"


@functools.cache
def validator(name: str) -> Draft7Validator:
    registry: Registry[Any] = Registry()
    for path in SCHEMAS.glob("*.json"):
        if path.name != "openapi.json":
            registry = registry.with_resource(
                path.name, Resource.opaque(json.loads(path.read_text()))
            )
    return Draft7Validator(json.loads((SCHEMAS / name).read_text()), registry=registry)


def errors(name: str, doc: Any) -> list[str]:
    return sorted(f"{list(e.absolute_path)}: {e.message}" for e in validator(name).iter_errors(doc))
