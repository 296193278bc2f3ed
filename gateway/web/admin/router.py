"""Routes of the admin console (see the package's docstring), one module per section.

`people` goes before `person`: `/admin/users/new` is matched before `/admin/users/{id}`."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.web.admin import landing, people, person, plan_settings, systems, thresholds

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
for part in (landing, people, person, systems, thresholds, plan_settings):
    router.include_router(part.routes)
