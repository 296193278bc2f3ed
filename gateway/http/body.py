"""Request bodies as a dependency, so that every route can be a plain (thread-pool) `def`.

Reading the body is the only work that has to happen on the event loop: it is I/O. The
route that uses the bytes runs in the thread pool, where its database and CPU work cannot
stall the other requests the worker is serving (issue 14: a blocked loop never schedules
the commit another request waits on). `tests/test_architecture.py` keeps every endpoint
synchronous.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request
from starlette.requests import ClientDisconnect

from kernel.errors import RefhubError

__all__ = ["Body", "BodyTooLarge", "BodyUnreadable", "ClientGone", "body_reader"]


class BodyTooLarge(RefhubError):
    status = 413
    code = "body-too-large"
    title = "Request body too large"


class ClientGone(RefhubError):
    """The client closed the connection before its body arrived (nobody reads the answer)."""

    status = 400
    code = "client-disconnected"
    title = "The client disconnected"


class BodyUnreadable(RefhubError):
    status = 415
    code = "unsupported-media-type"
    title = "Unsupported media type"


@dataclass(frozen=True)
class Body:
    """A request's bytes and the media type it declared (lower case, no parameters)."""

    data: bytes
    media_type: str


def body_reader(max_bytes: int, what: str) -> Callable[[Request], Awaitable[Body]]:
    """A dependency reading at most `max_bytes` of body; beyond that a 413 naming `what`."""

    async def read(request: Request) -> Body:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise BodyTooLarge(f"Send at most {_size(max_bytes)} per {what}.")
        chunks = bytearray()
        try:
            async for chunk in request.stream():
                chunks.extend(chunk)
                if len(chunks) > max_bytes:
                    raise BodyTooLarge(f"Send at most {_size(max_bytes)} per {what}.")
        except ClientDisconnect:
            raise ClientGone("The connection closed before the request body arrived.") from None
        except RuntimeError:  # Starlette: "Stream consumed" (a form body was parsed for CSRF)
            raise BodyUnreadable(
                f"This route does not take a form; send the {what} as its own media type."
            ) from None
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        return Body(bytes(chunks), media_type)

    return read


def _size(limit: int) -> str:
    if limit >= 1024 * 1024 and limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MB"
    return f"{limit // 1024} KB"
