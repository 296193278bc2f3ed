"""The CSV spreadsheet layout: one row per person, family grouped by ``case_id``."""
