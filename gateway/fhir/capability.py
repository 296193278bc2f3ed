"""The CapabilityStatement: what this hub's FHIR R4 (4.0.1) server supports."""

from __future__ import annotations

from typing import Any

from consent import fhir as consent_fhir
from directory import fhir as directory_fhir
from gateway.delivery import subscriptions as delivery_subscriptions
from gateway.workflow import fhir_router as workflow_fhir
from kernel import __version__

__all__ = ["FHIR_VERSION", "SMART_SERVICE", "SYSTEM_INTERACTIONS", "capability_statement"]

FHIR_VERSION = "4.0.1"
_RELEASE_DATE = "2026-11-23"
#: Interactions on the server as a whole (`POST /fhir` with a transaction Bundle).
SYSTEM_INTERACTIONS: tuple[dict[str, Any], ...] = (
    {
        "code": "transaction",
        "documentation": "POST /fhir: a referral as a transaction Bundle (ServiceRequest, "
        "Task, Patient, Consent and supporting resources).",
    },
)
SMART_SERVICE = {
    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
    "code": "SMART-on-FHIR",
    "display": "SMART-on-FHIR",
}
_OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def security(base_url: str) -> dict[str, Any]:
    """`rest.security`: SMART Backend Services (client credentials, private_key_jwt)."""
    return {
        "cors": False,
        "service": [{"coding": [SMART_SERVICE], "text": "SMART Backend Services"}],
        "extension": [
            {
                "url": _OAUTH_URIS,
                "extension": [{"url": "token", "valueUri": f"{base_url}/auth/token"}],
            }
        ],
        "description": "OAuth 2.0 client credentials with a signed JWT client assertion "
        "(SMART Backend Services) and system/ scopes; discovery at "
        f"{base_url}/.well-known/smart-configuration.",
    }


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
                "security": security(base_url),
                "resource": [
                    *consent_fhir.CAPABILITY,
                    *directory_fhir.CAPABILITY,
                    *delivery_subscriptions.CAPABILITY,
                    *workflow_fhir.CAPABILITY,
                ],
                "interaction": list(SYSTEM_INTERACTIONS),
            }
        ],
    }
