"""Request-scoped dependencies shared by every router: the runtime and the transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from gateway.runtime import Runtime
from kernel.db import end_transaction, transaction

__all__ = ["DbSession", "RuntimeDep", "get_runtime", "get_session", "release"]


def get_runtime(request: Request) -> Runtime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error.

    Used with ``scope="function"`` everywhere: the commit happens before the response is
    sent, so a client that follows a redirect (or a 201) always finds what was written, and
    a failed commit is an error response rather than a lost write after a success.
    """
    with transaction(get_runtime(request).sessions) as session:
        yield session


def release(session: Session) -> None:
    """End the request's transaction so far (committing what authentication recorded).

    For routes that go on to slow pure work (parsing an upload, converting it): on SQLite,
    BEGIN IMMEDIATE holds the one write lock for the whole transaction, so every other
    request would wait for the parse. The session's next query begins a new transaction.
    """
    end_transaction(session, None)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
DbSession = Annotated[Session, Depends(get_session, scope="function")]
