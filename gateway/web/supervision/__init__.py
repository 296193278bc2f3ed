"""The supervisor's console: the organisation's referrals and handovers at a glance."""
