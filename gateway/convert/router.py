"""`/convert`: agencies try a conversion of their own data without submitting anything.

Nothing is stored: the input is converted in memory and returned. The format reference
(list, CSV template, JSON Schema) is public so agencies' developers can prepare files.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, PlainTextResponse, Response

import adapters
from gateway.auth.dependencies import CurrentCaller
from gateway.convert import schemas
from gateway.dependencies import DbSession, release
from gateway.errors import error_responses
from gateway.http.body import Body, body_reader
from gateway.http.openapi import FHIR_BUNDLE_INPUT, SUMMARY_INPUT

__all__ = ["router"]

router = APIRouter(prefix="/convert", tags=["conversion"])
log = structlog.get_logger(__name__)
MAX_INPUT_BYTES = 5 * 1024 * 1024


@router.post(
    "",
    response_model=schemas.ConversionOut,
    responses=error_responses(400, 401, 403, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The input in the format `from` names.",
            "content": {
                "application/json": {"schema": SUMMARY_INPUT},
                "text/csv": {"schema": {"type": "string"}},
                "application/fhir+json": {"schema": FHIR_BUNDLE_INPUT},
            },
        }
    },
)
def convert(
    caller: CurrentCaller,
    session: DbSession,
    body: Annotated[Body, Depends(body_reader(MAX_INPUT_BYTES, "conversion"))],
    source: Annotated[str, Query(alias="from", json_schema_extra={"enum": adapters.readable()})],
    target: Annotated[str, Query(alias="to", json_schema_extra={"enum": adapters.writable()})],
    language: Annotated[str, Query(pattern=r"^[a-z]{2}$")] = "en",
) -> schemas.ConversionOut:
    """Convert the request body from one format to another and return the result.

    One failing case (a CSV family, one summary in a list) is reported in `cases` with its
    reasons and does not stop the others; a problem with the whole input is a 4xx problem.
    Limits: 5 MB per request, 5,000 CSV rows, 500 cases (413 `input-too-large` beyond).
    """
    release(session)  # nothing below touches the database: hold no lock while converting
    result = adapters.convert(body.data, source, target, language=language)
    log.info(
        "convert.done",
        source=source,
        target=target,
        cases=len(result.cases),
        failed=len(result.failed),
        organisation=str(caller.organisation_id),
    )
    return schemas.conversion_out(result)


@router.get("/formats", response_model=schemas.FormatsOut)
def formats() -> schemas.FormatsOut:
    """The formats `/convert` reads and writes (public)."""
    return schemas.FormatsOut(
        readable=list(adapters.readable()), writable=list(adapters.writable())
    )


@router.get(
    "/template.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def template() -> PlainTextResponse:
    """The spreadsheet template for the CSV format (public)."""
    return PlainTextResponse(
        adapters.csv_template(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="refhub-referral-template.csv"'},
    )


@router.get(
    "/summary.schema.json",
    response_class=Response,
    responses={200: {"content": {"application/schema+json": {"schema": {"type": "object"}}}}},
)
def summary_schema() -> JSONResponse:
    """The JSON Schema of the refhub case summary format (public)."""
    return JSONResponse(adapters.summary_schema(), media_type="application/schema+json")
