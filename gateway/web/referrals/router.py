"""Staff pages of the referrals area (see the package docstring): the lists, a referral's
page and its forms, re-sending and closing, each in its own module."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.web.referrals import actions, casework, detail, lists

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
for part in (lists, detail, actions, casework):
    router.include_router(part.routes)
