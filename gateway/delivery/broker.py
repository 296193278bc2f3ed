"""Talking to the Celery broker: reachability checks for start-up and /readyz."""

from __future__ import annotations

from kombu.connection import Connection

__all__ = ["broker_reachable"]


def broker_reachable(url: str, timeout: float = 2.0) -> str | None:
    """None when the broker answers within `timeout` seconds, else the reason it did not."""
    try:
        with Connection(  # type: ignore[no-untyped-call]
            url, connect_timeout=timeout, transport_options={"max_retries": 0}
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            conn.default_channel.client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable", with its reason
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
    return None
