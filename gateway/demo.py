"""Demo data: each capability contributes an idempotent loader; `refhub demo` runs them all.

A loader takes the open session and the settings, adds what is missing (never duplicates,
never overwrites) and returns the lines a newcomer needs: how to sign in, which ids and
key files to use.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory import demo as directory_demo
from gateway import consent_wiring
from gateway.auth import demo as auth_demo
from gateway.workflow import demo as workflow_demo
from gateway.workflow.casework import demo as casework_demo
from kernel import audit
from kernel.settings import Settings

__all__ = ["DEMO_LOADERS", "load_demo"]

Loader = Callable[[Session, Settings], list[str]]


def _hub_basics(session: Session, settings: Settings) -> list[str]:
    """Marks the hub as a demo installation in the audit chain, once."""
    marked = session.scalars(
        select(audit.AuditRecord.id).where(audit.AuditRecord.action == "demo.load").limit(1)
    ).first()
    if marked is None:
        audit.record(session, actor="system:demo", action="demo.load", subject="Hub/demo")
    base = settings.public_base_url
    return [
        f"Web UI:         {base}/ui/  (sign in with a staff account below)",
        f"Hub:            {base}",
        f"API docs:       {base}/docs",
        f"FHIR metadata:  {base}/fhir/metadata",
        f"Health:         {base}/healthz  {base}/readyz  {base}/metrics",
        f"Database:       {settings.database_url.split('://', 1)[0]} "
        f"({'embedded delivery' if settings.embedded_delivery else 'Celery delivery'})",
    ]


DEMO_LOADERS: list[Loader] = [
    _hub_basics,
    auth_demo.load,
    directory_demo.load,
    consent_wiring.load,
    workflow_demo.load,
    casework_demo.load,
]


def load_demo(session: Session, settings: Settings) -> list[str]:
    """Run every loader in order; return their combined instructions."""
    lines: list[str] = []
    for loader in DEMO_LOADERS:
        lines.extend(loader(session, settings))
    return lines
