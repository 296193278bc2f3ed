"""The CapabilityStatement: what this hub's FHIR R4 (4.0.1) server supports."""

from __future__ import annotations

from typing import Any

from consent import fhir as consent_fhir
from directory import fhir as directory_fhir
from gateway.delivery import subscriptions as delivery_subscriptions
from gateway.workflow import fhir_router as workflow_fhir
from kernel import __version__

__all__ = ["FHIR_VERSION", "capability_statement"]

FHIR_VERSION = "4.0.1"
_RELEASE_DATE = "2026-11-23"


def capability_statement(base_url: str) -> dict[str, Any]:
    """The statement as FHIR JSON; resources are added as the hub's packages expose them."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": _RELEASE_DATE,
        "publisher": "refhub",
        "kind": "instance",
        "software": {"name": "refhub", "version": __version__},
        "implementation": {
            "description": "refhub referral and handover hub",
            "url": f"{base_url}/fhir",
        },
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "resource": [
                    *consent_fhir.CAPABILITY,
                    *directory_fhir.CAPABILITY,
                    *delivery_subscriptions.CAPABILITY,
                    *workflow_fhir.CAPABILITY,
                ],
            }
        ],
    }
