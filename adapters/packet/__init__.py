"""The referral packet: a FHIR R4 transaction Bundle carrying one referral or handover."""
