"""No blocking work on the event loop (issue 14).

A route declared `async def` runs on the event loop; if it (or an async dependency) touches a
synchronous database session, the loop stalls for the length of every query, and two such
requests can deadlock a worker for good (the second waits on a row the first holds, and the
first's commit is never scheduled). So every endpoint is a plain `def` (FastAPI runs it in the
thread pool), async dependencies only read the request, and no `async def` anywhere in the
hub's packages names a session.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from gateway.app import create_app
from gateway.dependencies import get_session
from gateway.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("kernel", "adapters", "directory", "consent", "gateway")
BLOCKING_NAMES = {"session", "sessions", "Session", "scalars", "execute", "commit", "flush"}


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _walk(sub)


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute of the app, also those inside included routers (FastAPI keeps an
    included router as one entry whose `original_router` holds its routes)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (inner := getattr(route, "original_router", None)) is not None:
            yield from api_routes(inner.routes)


def _reaches_session(dependant: Dependant) -> bool:
    return any(sub.call is get_session for sub in _walk(dependant))


def _name(call: object) -> str:
    return f"{getattr(call, '__module__', '?')}.{getattr(call, '__qualname__', call)}"


def test_every_endpoint_runs_in_the_thread_pool(runtime: Runtime) -> None:
    app = create_app(runtime, run_relay=False)
    async_endpoints, async_dependencies_with_session = [], []
    routes = list(api_routes(app.routes))  # not FastAPI's own /openapi.json and /docs
    assert len(routes) > 140
    for route in routes:
        if inspect.iscoroutinefunction(route.endpoint):
            async_endpoints.append(f"{route.path} {_name(route.endpoint)}")
        for sub in _walk(route.dependant):
            if inspect.iscoroutinefunction(sub.call) and _reaches_session(sub):
                async_dependencies_with_session.append(f"{route.path} {_name(sub.call)}")
    assert async_endpoints == [], "make these plain `def` (read the body with a dependency)"
    assert async_dependencies_with_session == []


def test_no_async_function_names_a_database_session() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.AsyncFunctionDef):
                    continue
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
                names |= {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
                if hit := sorted(names & BLOCKING_NAMES):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {hit}")
    assert offenders == []
