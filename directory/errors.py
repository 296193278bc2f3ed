"""Directory errors: one root, subclasses named for what happened (rendered by the gateway)."""

from __future__ import annotations

from kernel.errors import NotFound, RefhubError

__all__ = [
    "BadSearchParameter",
    "DirectoryError",
    "ListingNotFound",
    "MembersOnly",
    "NotListingEditor",
    "NotModerator",
]


class DirectoryError(RefhubError):
    """Root of the directory's errors."""

    status = 400
    code = "directory-error"
    title = "Directory error"


class BadSearchParameter(DirectoryError):
    """A search or filter parameter has a value the directory cannot use; names which."""

    status = 400
    code = "bad-search-parameter"
    title = "Bad search parameter"

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter}: {problem}")
        self.parameter = parameter


class ListingNotFound(NotFound):
    """No such listing, or not one the caller may see."""

    code = "listing-not-found"
    title = "Listing not found"


class NotListingEditor(DirectoryError):
    """Only the owning organisation's org_admin or supervisor (or a hub admin) edits."""

    status = 403
    code = "not-listing-editor"
    title = "Not allowed to edit this listing"


class NotModerator(DirectoryError):
    status = 403
    code = "not-moderator"
    title = "Only hub admins moderate listings"


class MembersOnly(DirectoryError):
    """Endpoints and keys are visible to authenticated network members only."""

    status = 401
    code = "not-authenticated"
    title = "Network members only"
