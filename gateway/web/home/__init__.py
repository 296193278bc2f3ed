"""Home: what needs this staff member's attention today."""
