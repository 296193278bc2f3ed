"""The hub's FHIR R4 surface: capability statement (resources join as packages add them)."""
