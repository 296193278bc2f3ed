"""A route's transaction is committed before its response is sent.

FastAPI runs the exit code of a `yield` dependency after the response unless the
dependency is function-scoped, so a client could follow a 303 (or act on a 201) before
the write is visible, and a failed commit would be lost after a success was reported.
The consent page's revoke → receipt redirect was seen to 404 on PostgreSQL that way.
This test looks at the database from another connection at the moment the response
starts: the write must already be there.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from sqlalchemy import select

from gateway.app import create_app
from gateway.auth.models import Organisation
from gateway.runtime import Runtime


def test_the_write_is_visible_when_the_response_starts(committed: Runtime) -> None:
    app = create_app(committed, run_relay=False)
    name = f"Harbour {uuid.uuid4().hex[:8]}"
    body = json.dumps(
        {
            "name": name,
            "org_type": "torture_survivor_service",
            "contact_email": "intake@harbour.example",
            "admin": {
                "email": f"{uuid.uuid4().hex[:8]}@harbour.example",
                "display_name": "Lead",
                "password": "a long and unusual passphrase",
            },
        }
    ).encode()
    seen: dict[str, Any] = {}
    request_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal request_sent
        if request_sent:
            await asyncio.sleep(3600)
        request_sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]
            with committed.sessions() as other:
                seen["stored"] = other.scalar(
                    select(Organisation.id).where(Organisation.name == name)
                )

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/admin/organisations/applications",
        "raw_path": b"/admin/organisations/applications",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }

    async def call() -> None:
        async with app.router.lifespan_context(app):
            await app(scope, receive, send)

    asyncio.run(call())
    assert seen["status"] == 201
    assert seen["stored"] is not None
