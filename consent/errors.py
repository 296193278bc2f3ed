"""Consent errors: what was refused and why, never which client data caused it."""

from __future__ import annotations

from kernel.errors import RefhubError

__all__ = [
    "AlreadyErased",
    "ClientErased",
    "ClientIdentifierTaken",
    "ConsentError",
    "ConsentInvalid",
    "ConsentNotFound",
    "ConsentNotPermitted",
    "KeyUnavailable",
    "PageAccessRefused",
    "PageSessionMissing",
    "PageTokenRefused",
    "ResourceMismatch",
    "SeveralMatch",
    "VersionConflict",
]


class ConsentError(RefhubError):
    """Root of the consent package's errors."""

    status = 400
    code = "consent-error"
    title = "Consent error"


class ConsentInvalid(ConsentError):
    """A consent, client or request that breaks a rule (no grantor, no recipient, ...).

    The refusal is audited, so the audit record is kept; nothing else has been written.
    """

    status = 422
    code = "consent-invalid"
    title = "Consent not acceptable"
    keeps_writes = True

    def __init__(
        self, detail: str = "", *, reason: str | None = None, element: str | None = None
    ) -> None:
        super().__init__(detail)
        #: The rule broken, as the audit record names it (`witness-missing`, ...): lets a
        #: form show the message at the field concerned.
        self.reason = reason
        #: The element at fault (a FHIRPath such as `Consent.provision.actor[0].reference`):
        #: an OperationOutcome names it in `issue.expression`.
        self.errors = [{"location": element, "message": self.detail}] if element else None


class ConsentNotFound(ConsentError):
    """Missing, or a client the caller's organisation may not see: the same answer."""

    status = 404
    code = "not-found"
    title = "Not found"
    keeps_writes = True


class ConsentNotPermitted(ConsentError):
    """The caller may see the client but lacks the role, scope or permission to act."""

    status = 403
    code = "forbidden"
    title = "Forbidden"
    keeps_writes = True


class PageTokenRefused(ConsentError):
    """A consent-page link that is unknown, used, expired, or whose second check failed."""

    status = 410
    code = "page-link-refused"
    title = "This link cannot be used"
    keeps_writes = True


class PageAccessRefused(ConsentError):
    """A consent-page action on something that is not the signed-in client's."""

    status = 404
    code = "not-found"
    title = "Not found"
    keeps_writes = True


class PageSessionMissing(ConsentError):
    """No valid consent-page session (expired, ended, or never opened)."""

    status = 401
    code = "page-session-missing"
    title = "Open your consent link again"


class KeyUnavailable(ConsentError):
    """The key-encryption key cannot be read; identities cannot be encrypted or read."""

    status = 503
    code = "key-unavailable"
    title = "Key unavailable"


class ClientErased(ConsentError):
    """The client's data key was destroyed (erasure): their data can no longer be read."""

    status = 410
    code = "client-erased"
    title = "Client data erased"


class AlreadyErased(ConsentError):
    """An erasure of a client whose data was erased before: nothing more to destroy."""

    status = 409
    code = "already-erased"
    title = "Client data already erased"
    keeps_writes = True


class ClientIdentifierTaken(ConsentError):
    """Another client of the organisation already carries this identifier."""

    status = 409
    code = "client-identifier-taken"


class ResourceMismatch(ConsentError):
    """A FHIR update whose resource id differs from the URL's (FHIR: 400)."""

    status = 400
    code = "resource-id-mismatch"
    title = "Resource id mismatch"


class VersionConflict(ConsentError):
    """`If-Match` names a version that is no longer the current one."""

    status = 412
    code = "version-conflict"
    title = "Version conflict"


class SeveralMatch(ConsentError):
    """A conditional create whose criteria match more than one record (FHIR: 412)."""

    status = 412
    code = "several-match"
    title = "Several records match"
