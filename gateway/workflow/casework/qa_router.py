"""Supervision and quality assurance of case files over HTTP: review requests and the
supervisor's decisions, automatic and sampled file reviews, the supervisor's report.

A case worker (or supervisor) of the organisation holding a case asks for review and runs
its file review; supervisors of that organisation see the queue, decide, sample files,
record findings and read the report. Another organisation's ids are 404; refused input is
a 422 naming the field; everything is audited.
"""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel

from gateway.auth.dependencies import CurrentCaller
from gateway.dependencies import DbSession
from gateway.errors import error_responses
from gateway.workflow.casework import file_review, file_sample, qa_report, supervision
from gateway.workflow.casework.qa_schemas import (
    CaseworkReport,
    DecisionIn,
    FileReviewOut,
    FindingsIn,
    ReviewOut,
    ReviewRequestIn,
    SampleIn,
)

__all__ = ["qa_router"]

qa_router = APIRouter(tags=["supervision"])
_WRITE = error_responses(401, 403, 404, 409, 410, 422)
_READ = error_responses(401, 403, 404, 410)


class ReviewList(BaseModel):
    items: list[ReviewOut]


class FileReviewList(BaseModel):
    items: list[FileReviewOut]


class SampleOut(BaseModel):
    period: str
    drawn: bool
    items: list[FileReviewOut]


@qa_router.post(
    "/cases/{case_id}/reviews-requested",
    response_model=ReviewOut,
    status_code=201,
    responses=_WRITE,
)
def request_review(
    case_id: uuid.UUID,
    body: ReviewRequestIn,
    caller: CurrentCaller,
    session: DbSession,
    response: Response,
) -> ReviewOut:
    """Ask a supervisor to review the case's latest assessment, its plan, or the closure
    you intend. 200 with the request already pending, if there is one."""
    review, created = supervision.request_review(session, caller, case_id, body.subject)
    if not created:
        response.status_code = 200
    return review


@qa_router.get("/cases/{case_id}/reviews", response_model=ReviewList, responses=_READ)
def case_reviews(case_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> ReviewList:
    """The case's review requests and the supervisors' decisions with their comments."""
    return ReviewList(items=supervision.case_reviews(session, caller, case_id))


@qa_router.get("/supervision/queue", response_model=ReviewList, responses=error_responses(401, 403))
def review_queue(caller: CurrentCaller, session: DbSession) -> ReviewList:
    """Your organisation's review requests waiting for a decision, oldest first."""
    return ReviewList(items=supervision.queue(session, caller))


@qa_router.post("/supervision/{review_id}/decision", response_model=ReviewOut, responses=_WRITE)
def decide(
    review_id: uuid.UUID, body: DecisionIn, caller: CurrentCaller, session: DbSession
) -> ReviewOut:
    """Approve the work, or return it with comments (required). Not on your own request."""
    return supervision.decide(session, caller, review_id, body)


@qa_router.post(
    "/cases/{case_id}/file-review", response_model=FileReviewOut, status_code=201, responses=_READ
)
def run_file_review(case_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> FileReviewOut:
    """Run the automatic file review of the case now: the checklist's results."""
    return file_review.run_file_review(session, caller, case_id)


@qa_router.post("/supervision/samples", response_model=SampleOut, status_code=201, responses=_WRITE)
def draw_sample(
    body: SampleIn, caller: CurrentCaller, session: DbSession, response: Response
) -> SampleOut:
    """Draw the month's random sample of case files for manual review; 200 with the
    sample drawn before (one per month)."""
    items, drawn = file_sample.draw_sample(session, caller, body.period)
    if not drawn:
        response.status_code = 200
    return SampleOut(period=body.period, drawn=drawn, items=items)


@qa_router.get(
    "/supervision/file-reviews",
    response_model=FileReviewList,
    responses=error_responses(401, 403, 422),
)
def list_file_reviews(
    caller: CurrentCaller,
    session: DbSession,
    kind: Literal["automatic", "sample"] | None = None,
    period: str | None = None,
    status: Literal["open", "done"] | None = None,
) -> FileReviewList:
    """Your organisation's file reviews, newest first (findings only on each one's page)."""
    return FileReviewList(
        items=file_sample.list_file_reviews(
            session, caller, kind=kind, period=period, status=status
        )
    )


@qa_router.get(
    "/supervision/file-reviews/{file_review_id}", response_model=FileReviewOut, responses=_READ
)
def read_file_review(
    file_review_id: uuid.UUID, caller: CurrentCaller, session: DbSession
) -> FileReviewOut:
    """One file review with its checklist, findings and corrective actions."""
    return file_sample.read_file_review(session, caller, file_review_id)


@qa_router.post(
    "/supervision/file-reviews/{file_review_id}/findings",
    response_model=FileReviewOut,
    responses=_WRITE,
)
def record_findings(
    file_review_id: uuid.UUID, body: FindingsIn, caller: CurrentCaller, session: DbSession
) -> FileReviewOut:
    """Record a sampled file review's findings and corrective actions; marks it done
    unless `done` is false."""
    return file_sample.record_findings(session, caller, file_review_id, body)


@qa_router.get(
    "/supervision/casework-report",
    response_model=CaseworkReport,
    responses=error_responses(401, 403),
)
def casework_report(caller: CurrentCaller, session: DbSession) -> CaseworkReport:
    """Goals achieved and open by domain, plans overdue for review, review requests
    waiting, and file-review findings by checklist item, for your organisation."""
    return qa_report.casework_report(session, caller)
