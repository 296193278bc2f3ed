"""Routes of the hub console (see the package's docstring), one module per section."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.web.hub import audit_pages, deliveries, keys, landing, moderation, organisations

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
for part in (landing, organisations, moderation, deliveries, audit_pages, keys):
    router.include_router(part.routes)
