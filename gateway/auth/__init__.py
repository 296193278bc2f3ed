"""Identity and access: organisations, staff sign-in, system clients, the caller dependency."""
