"""Routes of the supervision console (see the package's docstring): the dashboard and its
CSV, the drill-down lists with reassignment, the case workers' open items. Every route
needs the supervisor role (`SupervisorDep`)."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.web.supervision import dashboard, drill, files, reviews, workers

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
router.include_router(dashboard.routes)
router.include_router(drill.routes)
router.include_router(workers.routes)
router.include_router(reviews.routes)
router.include_router(files.routes)
