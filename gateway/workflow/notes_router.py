"""`/cases/{case_id}/notes`: the case notes of the caller's organisation, and writing one.

Staff only (case workers and supervisors); another organisation's case is a 404. Notes are
append-only: a correction is a new note naming the one it corrects (`corrects`).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel

from gateway.auth.dependencies import CurrentCaller
from gateway.dependencies import DbSession
from gateway.errors import error_responses
from gateway.workflow import notes
from gateway.workflow.notes import NoteIn, NoteOut

__all__ = ["NoteList", "notes_router"]

notes_router = APIRouter(prefix="/cases", tags=["cases"])


class NoteList(BaseModel):
    items: list[NoteOut]
    total: int


@notes_router.get(
    "/{case_id}/notes", response_model=NoteList, responses=error_responses(401, 403, 404, 410)
)
def list_notes(case_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> NoteList:
    """Your organisation's notes on the case, newest contact first (audited).

    Readable while the case is your organisation's, or was (after a handover you still
    read what you wrote). Other organisations' notes are never shown. 410 once the
    client's data was erased.
    """
    items = notes.list_notes(session, caller, case_id)
    return NoteList(items=items, total=len(items))


@notes_router.post(
    "/{case_id}/notes",
    response_model=NoteOut,
    status_code=201,
    responses=error_responses(401, 403, 404, 410, 422),
)
def add_note(
    case_id: uuid.UUID, body: NoteIn, caller: CurrentCaller, session: DbSession
) -> NoteOut:
    """Record a contact with the client on your organisation's case (audited).

    Refused (422, naming the field, nothing stored): a contact in the future, empty text,
    an unknown kind, an interpreter language without an interpreter, a correction of a
    note that is not one of this case's.
    """
    return notes.add_note(session, caller, case_id, body)
