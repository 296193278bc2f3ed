"""The directory's HTTP surface for the composition root: every router, wired once."""

from __future__ import annotations

from fastapi import APIRouter

from directory import fhir_router, hsds_router, router
from directory.dependencies import Wiring

__all__ = ["Wiring", "routers"]


def routers(wiring: Wiring) -> list[APIRouter]:
    """/directory (refhub's own API), /hsds (HSDS 3.0) and the FHIR resources under /fhir."""
    return [
        router.make_router(wiring),
        hsds_router.make_router(wiring),
        fhir_router.make_router(wiring),
    ]
