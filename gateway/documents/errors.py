"""Document errors: what was refused and why, never anything of the document's content."""

from __future__ import annotations

from kernel.errors import RefhubError

__all__ = [
    "ContentTypeMismatch",
    "DocumentError",
    "DocumentInvalid",
    "DocumentNotFound",
    "DocumentTooLarge",
    "UnsupportedContentType",
]


class DocumentError(RefhubError):
    """Root of the documents package's errors."""

    status = 400
    code = "document-error"
    title = "Document error"


class DocumentTooLarge(DocumentError):
    """Larger than REFHUB_DOCUMENT_MAX_BYTES (refusal audited)."""

    status = 413
    code = "document-too-large"
    title = "Document too large"
    keeps_writes = True


class UnsupportedContentType(DocumentError):
    """A declared type outside the allow-list (refusal audited)."""

    status = 415
    code = "unsupported-content-type"
    title = "Unsupported document type"
    keeps_writes = True


class ContentTypeMismatch(DocumentError):
    """The bytes are not of the declared type (refusal audited)."""

    status = 415
    code = "content-type-mismatch"
    title = "Document content does not match its type"
    keeps_writes = True


class DocumentInvalid(DocumentError):
    """A document request that breaks a rule (empty file, no title, unknown referral)."""

    status = 422
    code = "document-invalid"
    title = "Document not acceptable"
    keeps_writes = True


class DocumentNotFound(DocumentError):
    """Missing, or a document the caller may not read: the same answer (audited)."""

    status = 404
    code = "not-found"
    title = "Not found"
    keeps_writes = True
