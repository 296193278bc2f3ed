"""What every compose page needs: the staff member's draft, its address, its task states."""

from __future__ import annotations

import uuid

from fastapi import HTTPException

from gateway.web.shell import GoTo, Staff
from gateway.workflow import drafts
from gateway.workflow.errors import ReferralNotFound
from gateway.workflow.models import DraftStatus, ReferralDraft

__all__ = ["base", "draft_of", "open_draft", "tasks_of"]


def base(draft: ReferralDraft) -> str:
    """The draft's task list address (each step is below it)."""
    return f"/ui/referrals/drafts/{draft.id}"


def draft_of(staff: Staff, draft_id: uuid.UUID, *, for_update: bool = False) -> ReferralDraft:
    """The staff member's draft, or the HTML 404 page."""
    try:
        return drafts.get(staff.session, staff.caller, draft_id, for_update=for_update)
    except ReferralNotFound:
        raise HTTPException(404) from None


def open_draft(staff: Staff, draft_id: uuid.UUID) -> ReferralDraft:
    """A draft still being written; a sent one leads to its confirmation page."""
    draft = draft_of(staff, draft_id)
    if draft.status == DraftStatus.SENT:
        raise GoTo(f"{base(draft)}/sent")
    return draft


def tasks_of(staff: Staff, draft: ReferralDraft) -> dict[str, str]:
    """Each task's state: done, started, todo or blocked (cannot start yet)."""
    content = drafts.content_of(staff.session, draft) if draft.client_id else {}
    chosen = draft.client_id is not None
    if content.get("complete"):
        summary = "done"
    elif content.get("summary"):
        summary = "started"
    else:
        summary = "todo" if chosen else "blocked"
    state = {
        "kind": "done",
        "client": "done" if chosen else "todo",
        "service": "done" if draft.service_id else "todo",
        "consent": "done" if draft.consent_id else ("todo" if chosen else "blocked"),
        "summary": summary,
    }
    ready = all(state[k] == "done" for k in ("client", "service", "consent", "summary"))
    state["review"] = "todo" if ready else "blocked"
    return state
