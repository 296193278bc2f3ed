"""The organisation administrator's console: people, system clients, workflow times."""
