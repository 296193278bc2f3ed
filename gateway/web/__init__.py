"""The staff web UI: server-rendered pages (sign-in first; cases and referrals follow)."""
