"""FHIR R4 Bundles from agencies: validated, normalised into referral packets, and back."""
