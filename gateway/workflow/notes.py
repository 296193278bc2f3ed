"""Case notes: dated contacts with the client, written by the organisation holding the case.

- A note belongs to a case (and so to its client) and to the organisation that wrote it.
  Only that organisation's case workers and supervisors read and write notes, while the
  case is the organisation's, or was (after a handover it still reads what it wrote);
  anyone else gets the case's 404. A note may name the goals and tasks of the case's plan
  it shows progress on, and be shared through them with the partner agencies serving those
  goals (`casework.note_links`, `casework.shared`), as the client's consent permits.
- Notes are append-only: no edit, no delete. A correction is a new note that names the
  note it corrects (a note of the same case written by the same organisation).
- The text, who took part and the interpreter's language are sealed under the client's
  data key (context `case-note:<id>`); erasing the client makes them unreadable.
- Every read and write is audited with the person as actor; so are refused look-ups.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from consent import clients as consent_clients
from gateway.auth import people
from gateway.auth.errors import Forbidden
from gateway.workflow.cases import CaseNotFound
from gateway.workflow.casework import note_links
from gateway.workflow.errors import WorkflowError
from gateway.workflow.models import Case, CaseNote
from kernel import audit
from kernel.audit import Outcome
from kernel.caller import Caller, CallerKind, Role
from kernel.db import new_id, utcnow

__all__ = [
    "NOTE_TEXT_MAX",
    "ContactKind",
    "NoteAuthor",
    "NoteIn",
    "NoteInvalid",
    "NoteOut",
    "add_note",
    "list_notes",
    "notes_of_client",
    "reads_notes",
]

NOTE_TEXT_MAX = 20000
_ROLES = (Role.CASE_WORKER, Role.SUPERVISOR)
_CLOCK_SKEW = dt.timedelta(minutes=5)


class ContactKind(enum.StrEnum):
    HOME_VISIT = "home-visit"
    OFFICE_VISIT = "office-visit"
    PHONE = "phone"
    VIDEO = "video"
    OTHER = "other"


class NoteInvalid(WorkflowError):
    """The note cannot be recorded as sent (`errors` names the field); nothing is stored."""

    status = 422
    code = "case-note-invalid"
    title = "Case note cannot be recorded"

    def __init__(self, detail: str, *, location: str) -> None:
        super().__init__(detail)
        self.errors = [{"location": location, "message": detail}]


Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NOTE_TEXT_MAX)
]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class NoteIn(BaseModel):
    """A case note as written: the contact it records and what happened."""

    model_config = ConfigDict(extra="forbid")

    contacted_at: dt.datetime = Field(
        description="When the contact took place (not when the note is written); not in "
        "the future. Without a time zone it is read as UTC."
    )
    kind: ContactKind = Field(description="How the contact took place.")
    interpreter: bool = Field(False, description="Whether an interpreter took part.")
    interpreter_language: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=35)] | None
    ) = Field(None, description="The language interpreted (only with an interpreter).")
    duration_minutes: int | None = Field(None, ge=1, le=1440)
    participants: Short | None = Field(None, description="Who took part, in a few words.")
    text: Text = Field(description="What happened, what was agreed, what comes next.")
    corrects: uuid.UUID | None = Field(
        None, description="The note of this case this note corrects (the original stays)."
    )
    goal_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=note_links.MAX_LINKS,
        description="Goals of the case's plan this contact shows progress on.",
    )
    task_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=note_links.MAX_LINKS,
        description="Tasks of the case's plan this contact shows progress on.",
    )
    share_with_partners: bool = Field(
        False,
        description="Let the partner agencies serving the linked goals read this note, as "
        "the client's consent permits (case notes and the goal's category).",
    )


class NoteAuthor(BaseModel):
    id: uuid.UUID
    name: str


class NoteOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    client_id: uuid.UUID
    organisation_id: uuid.UUID
    author: NoteAuthor
    contacted_at: dt.datetime
    kind: ContactKind
    interpreter: bool
    interpreter_language: str | None
    duration_minutes: int | None
    participants: str | None
    text: str
    corrects: uuid.UUID | None
    corrected_by: list[uuid.UUID]
    goal_ids: list[uuid.UUID] = []
    task_ids: list[uuid.UUID] = []
    share_with_partners: bool = False
    written_at: dt.datetime


def reads_notes(caller: Caller) -> bool:
    """Whether the caller is someone who reads and writes case notes (pages ask first)."""
    return caller.kind is CallerKind.USER and caller.has_role(*_ROLES)


def _context(note_id: uuid.UUID) -> str:
    return f"case-note:{note_id}"


def _require_staff(session: Session, caller: Caller, action: str, subject: str) -> None:
    if not reads_notes(caller):
        audit.record(
            session,
            actor=caller.actor,
            action=action,
            outcome=Outcome.DENIED,
            organisation=str(caller.organisation_id),
            subject=subject,
            detail={"refused": "role"},
        )
        raise Forbidden("Only case workers and supervisors read and write case notes.")


def _case(
    session: Session,
    caller: Caller,
    case_id: uuid.UUID,
    *,
    write: bool,
    client_id: uuid.UUID | None = None,
) -> Case:
    """The case, if the caller's organisation holds it (or, to read, held it)."""
    action = "case-note.write" if write else "case-note.read"
    subject = f"EpisodeOfCare/{case_id}"
    _require_staff(session, caller, action, subject)
    org = caller.organisation_id
    case = session.get(Case, case_id)
    visible = case is not None and (
        case.owner_org_id == org
        or (
            not write
            and (
                case.opened_by_org_id == org
                or bool(
                    session.scalar(
                        select(
                            exists().where(
                                CaseNote.case_id == case_id, CaseNote.organisation_id == org
                            )
                        )
                    )
                )
            )
        )
    )
    if case is None or not visible or client_id not in (None, case.client_id):
        audit.record(
            session,
            actor=caller.actor,
            action=action,
            outcome=Outcome.DENIED,
            organisation=str(org),
            subject=subject,
        )
        raise CaseNotFound("No such case.")
    return case


def _out(session: Session, notes: list[CaseNote]) -> list[NoteOut]:
    """The notes opened (raises ClientErased once the client's key is destroyed)."""
    corrected: dict[uuid.UUID, list[uuid.UUID]] = {}
    for note in sorted(notes, key=lambda n: n.written_at):
        if note.corrects_id is not None:
            corrected.setdefault(note.corrects_id, []).append(note.id)
    links = note_links.links_of(session, [n.id for n in notes])
    out = []
    for note in notes:
        goal_ids, task_ids = links.get(note.id, ([], []))
        sealed = json.loads(
            consent_clients.open_for_client(session, note.client_id, note.sealed, _context(note.id))
        )
        out.append(
            NoteOut(
                id=note.id,
                case_id=note.case_id,
                client_id=note.client_id,
                organisation_id=note.organisation_id,
                author=NoteAuthor(id=note.author_id, name=note.author_name),
                contacted_at=note.contacted_at,
                kind=ContactKind(note.kind),
                interpreter=note.interpreter,
                interpreter_language=sealed.get("interpreter_language"),
                duration_minutes=note.duration_minutes,
                participants=sealed.get("participants"),
                text=sealed["text"],
                corrects=note.corrects_id,
                corrected_by=corrected.get(note.id, []),
                goal_ids=goal_ids,
                task_ids=task_ids,
                share_with_partners=note.share_with_partners,
                written_at=note.written_at,
            )
        )
    return out


def _select(session: Session, *rules: Any) -> list[CaseNote]:
    return list(
        session.scalars(
            select(CaseNote)
            .where(*rules)
            .order_by(CaseNote.contacted_at.desc(), CaseNote.written_at.desc(), CaseNote.id)
        )
    )


def _audit_read(session: Session, caller: Caller, client_id: uuid.UUID, **detail: Any) -> None:
    audit.record(
        session,
        actor=caller.actor,
        action="case-note.read",
        organisation=str(caller.organisation_id),
        subject=f"Patient/{client_id}",
        detail=detail,
    )


def list_notes(session: Session, caller: Caller, case_id: uuid.UUID) -> list[NoteOut]:
    """The case's notes written by the caller's organisation, newest contact first.

    Raises:
        Forbidden (not a case worker or supervisor), CaseNotFound (no such case, or not the
        organisation's, now or before; audited), ClientErased (the client was erased).
    """
    case = _case(session, caller, case_id, write=False)
    notes = _select(
        session, CaseNote.case_id == case.id, CaseNote.organisation_id == caller.organisation_id
    )
    _audit_read(session, caller, case.client_id, case=str(case.id), notes=len(notes))
    return _out(session, notes)


def notes_of_client(session: Session, caller: Caller, client_id: uuid.UUID) -> list[NoteOut]:
    """Every note the caller's organisation wrote about the client, in all its cases.

    Raises:
        Forbidden (not a case worker or supervisor), ClientErased.
    """
    _require_staff(session, caller, "case-note.read", f"Patient/{client_id}")
    notes = _select(
        session, CaseNote.client_id == client_id, CaseNote.organisation_id == caller.organisation_id
    )
    _audit_read(session, caller, client_id, notes=len(notes))
    return _out(session, notes)


def add_note(
    session: Session,
    caller: Caller,
    case_id: uuid.UUID,
    body: NoteIn,
    *,
    client_id: uuid.UUID | None = None,
) -> NoteOut:
    """Record a case note (or a correction of one) on the organisation's case (with
    `client_id`, only if it is that client's case: the web form's check).

    Raises:
        Forbidden, CaseNotFound (audited), NoteInvalid (a contact in the future, an
        interpreter language without an interpreter, a correction of a note not of this
        case), ClientErased (nothing more may be stored about the client).
    """
    case = _case(session, caller, case_id, write=True, client_id=client_id)
    now = utcnow()
    when = body.contacted_at
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    when = when.astimezone(dt.UTC)
    if when > now + _CLOCK_SKEW:
        raise NoteInvalid("The contact cannot be in the future.", location="body.contacted_at")
    if body.interpreter_language and not body.interpreter:
        raise NoteInvalid(
            "Give the interpreter's language only when an interpreter took part.",
            location="body.interpreter_language",
        )
    if body.corrects is not None:
        original = session.get(CaseNote, body.corrects)
        if (
            original is None
            or original.case_id != case.id
            or original.organisation_id != caller.organisation_id
        ):
            raise NoteInvalid(
                "The note to correct is not a note of this case.", location="body.corrects"
            )
    wrong = note_links.check(session, case.id, body.goal_ids, body.task_ids)
    if wrong is not None:
        raise NoteInvalid(wrong[0], location=wrong[1])
    if body.share_with_partners and not (body.goal_ids or body.task_ids):
        raise NoteInvalid(
            "A note is shared only through the goals or tasks it is linked to: link one.",
            location="body.share_with_partners",
        )
    author = people.names_of(session, [caller.actor]).get(caller.actor)
    note_id = new_id()
    plain = {
        "text": body.text,
        "participants": body.participants or None,
        "interpreter_language": body.interpreter_language or None,
    }
    data = json.dumps(plain, separators=(",", ":"), ensure_ascii=False).encode()
    note = CaseNote(
        id=note_id,
        case_id=case.id,
        client_id=case.client_id,
        organisation_id=caller.organisation_id,
        author_id=caller.id,
        author_name=author.name if author else caller.actor,
        contacted_at=when,
        kind=body.kind.value,
        interpreter=body.interpreter,
        duration_minutes=body.duration_minutes,
        corrects_id=body.corrects,
        share_with_partners=body.share_with_partners,
        sealed=consent_clients.seal_for_client(session, case.client_id, data, _context(note_id)),
        written_at=now,
    )
    session.add(note)
    session.flush()
    note_links.store(session, note.id, body.goal_ids, body.task_ids)
    session.flush()
    audit.record(
        session,
        actor=caller.actor,
        action="case-note.write",
        organisation=str(caller.organisation_id),
        subject=f"Patient/{case.client_id}",
        detail={
            "case": str(case.id),
            "note": str(note.id),
            "kind": note.kind,
            "corrects": str(body.corrects) if body.corrects else None,
            "links": len(body.goal_ids) + len(body.task_ids),
            "shared": body.share_with_partners,
        },
    )
    return _out(session, [note])[0]
