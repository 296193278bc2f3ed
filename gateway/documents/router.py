"""Documents over HTTP: upload (multipart), metadata, content. Routes translate, the
service decides; reading is limited to what `gateway.documents.access` allows."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import WithJsonSchema

from gateway.auth.clients.scopes import scope_allows
from gateway.auth.dependencies import CurrentCaller
from gateway.auth.errors import Forbidden
from gateway.dependencies import DbSession
from gateway.documents import service
from gateway.documents.schemas import DocumentRead
from gateway.errors import error_responses
from kernel.caller import Caller, CallerKind
from kernel.settings import get_settings

__all__ = ["router"]

router = APIRouter(prefix="/documents", tags=["documents"])
_RESOURCE = "DocumentReference"


# A form field is left out, never null: the document says so (FastAPI's default for an
# optional field would allow a null, which a form cannot carry).
_OPTIONAL_UUID = WithJsonSchema({"type": "string", "format": "uuid"})


def _need(caller: Caller, letter: str) -> None:
    """System clients need a DocumentReference scope; staff are governed by roles."""
    if caller.kind is CallerKind.CLIENT and not scope_allows(caller.scopes, _RESOURCE, letter):
        raise Forbidden(f"Your access token has no {_RESOURCE} scope for this.")


@router.post(
    "",
    status_code=201,
    response_model=DocumentRead,
    responses=error_responses(401, 403, 404, 410, 413, 415, 422),
)
def upload(
    caller: CurrentCaller,
    session: DbSession,
    client_id: Annotated[uuid.UUID, Form()],
    title: Annotated[str, Form(min_length=1, max_length=200, pattern=r"\S")],
    file: Annotated[UploadFile, File()],
    referral_id: Annotated[uuid.UUID | None, Form(), _OPTIONAL_UUID] = None,
) -> DocumentRead:
    """Upload a document about a client you may see (multipart: `client_id`, `title`,
    `file`, optional `referral_id`). Accepted: PDF, PNG, JPEG, UTF-8 plain text, DOCX, ODT,
    and the file's content must be of its declared type; at most REFHUB_DOCUMENT_MAX_BYTES.
    Stored encrypted under the client's data key."""
    _need(caller, "c")
    # Read one byte past the limit: enough to know it is too large, never the whole body.
    data = file.file.read(get_settings().document_max_bytes + 1)
    document = service.store(
        session,
        caller,
        client_id=client_id,
        referral_id=referral_id,
        title=title,
        content_type=file.content_type or "",
        data=data,
    )
    return DocumentRead.of(service.DocumentView(document=document, title=title.strip()))


@router.get(
    "/{document_id}", response_model=DocumentRead, responses=error_responses(401, 403, 404, 410)
)
def describe(document_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> DocumentRead:
    """A document's metadata and title (the uploading organisation, for now)."""
    _need(caller, "r")
    return DocumentRead.of(service.describe(session, caller, document_id=document_id))


@router.get(
    "/{document_id}/content",
    response_class=Response,
    responses={
        200: {"description": "The document, as uploaded", "content": {"*/*": {}}},
        **error_responses(401, 403, 404, 410),
    },
)
def content(document_id: uuid.UUID, caller: CurrentCaller, session: DbSession) -> Response:
    """The document's bytes, with its content type, as an attachment (never rendered
    inline by a browser)."""
    _need(caller, "r")
    document, data = service.open_document(session, caller, document_id=document_id)
    return Response(
        content=data,
        media_type=document.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="document-{document.id}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
