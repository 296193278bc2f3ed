"""structlog set-up: JSON lines (or console), request id bound per request, secrets redacted.

Every process the hub starts calls `configure_logging` before its first log line: the CLI,
each uvicorn worker (`gateway.app.create_served_app`), the Celery worker and beat (the
`setup_logging` signal). Tracebacks are rendered as plain text, never with local variables.

Client data never reaches a log: events carry ids and codes only. As a second line of
defence every line passes through `redact`, which replaces the values of keys that name
secrets or personal data and scrubs secrets out of any text (exception messages and
tracebacks included): bearer and basic credentials, JWS/JWE/JWT compact tokens, PEM private
keys, private JWK members, and `name=value` pairs naming a password, token, assertion or key.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["REDACTED", "configure_logging", "redact", "scrub"]

REDACTED = "[redacted]"

_REDACT = (
    "password",
    "passphrase",
    "secret",
    "token",
    "authorization",
    "cookie",
    "assertion",
    "private_key",
    "api_key",
    "given_name",
    "family_name",
    "full_name",
    "birth",
    "phone",
    "email",
    "address",
)

_SECRET_WORDS = (
    "password",
    "passphrase",
    "passwd",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "csrf_token",
    "client_assertion",
    "assertion",
    "api_key",
    "apikey",
    "totp",
    "refhub_session",
    "refhub_consent_session",
    "authorization",
)
_SECRET_NAMES = "|".join(_SECRET_WORDS)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
        REDACTED,
    ),
    (re.compile(r"\b(Bearer|Basic|DPoP)(\s+)[A-Za-z0-9\-._~+/]+=*", re.I), r"\1\2" + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){1,4}"), REDACTED),
    (
        re.compile(
            rf"(?i)(\b(?:{_SECRET_NAMES})\b[\"']?\s*[:=]\s*(?:b?[\"']|\[b?[\"'])?)"
            r"(?!\[redacted\])[^\s\"'&,;)\]}]+"
        ),
        r"\1" + REDACTED,
    ),
    (
        re.compile(r"([\"'](?:d|p|q|dp|dq|qi|k)[\"']\s*:\s*[\"'])[A-Za-z0-9_\-+/=]+"),
        r"\1" + REDACTED,
    ),
)


def scrub(text: str) -> str:
    """`text` with every secret the patterns recognise replaced by `[redacted]`."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _clean(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if depth > 5:
        return value
    if isinstance(value, dict):
        return {k: REDACTED if _secret_key(k) else _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v, depth + 1) for v in value]
    if isinstance(value, bytes):
        return scrub(value.decode("utf-8", errors="replace"))
    return value


def _secret_key(key: object) -> bool:
    lowered = str(key).lower()
    return any(word in lowered for word in _REDACT)


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The processor every line passes through last before rendering (see module doc)."""
    for key in list(event):
        if key == "event":
            event[key] = _clean(event[key])
        elif _secret_key(key):
            event[key] = REDACTED
        else:
            event[key] = _clean(event[key])
    return event


def _add_pid(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    event.setdefault("pid", os.getpid())  # which worker process wrote the line
    return event


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Route structlog and the standard library's logging through one renderer (JSON lines
    by default), with plain tracebacks and the redaction processor. Safe to call again."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _add_pid,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,  # plain text: no local variables
                redact,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # Python warnings become log lines in the same format
    for name in ("uvicorn", "uvicorn.error", "celery", "celery.task", "celery.worker"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").handlers[:] = []
    logging.getLogger("uvicorn.access").propagate = False  # refhub.http logs each request
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
