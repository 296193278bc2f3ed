"""System clients: SMART Backend Services registration, JWT client assertions, access tokens."""
