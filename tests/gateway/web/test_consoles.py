"""The consoles (supervisor, organisation admin, hub admin) are each reachable only by their
role: every one of their routes, walked from the app, answers a case worker with the HTML
403 page (not the console, not a redirect, not problem JSON), and the navigation offers a
person only the consoles of their roles."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from kernel.caller import Role
from tests.gateway.staff import Account, MakeAccount, StaffClient

Signed = Callable[[Account], StaffClient]
#: The path prefixes of the consoles and the role each needs.
CONSOLES = {
    "/ui/team": Role.SUPERVISOR,
    "/ui/admin": Role.ORG_ADMIN,
    "/ui/listings": Role.ORG_ADMIN,
    "/ui/hub": Role.HUB_ADMIN,
}


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) of every APIRoute, also those of routers included in routers
    (FastAPI keeps an included router as one entry: its router and the include's prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        elif (inner := getattr(route, "original_router", None)) is not None:
            context = getattr(route, "include_context", None)
            yield from _routes(inner.routes, prefix + getattr(context, "prefix", ""))


def console_routes(app: FastAPI) -> Iterator[tuple[str, str, Role]]:
    for path, route in _routes(app.routes):
        for prefix, role in CONSOLES.items():
            if path == prefix or path.startswith(prefix + "/"):
                for method in sorted(route.methods):
                    yield method, path, role


def _filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


def test_every_console_route_refuses_other_roles_with_an_html_page(
    app: FastAPI, make_account: MakeAccount, staff_client: Signed
) -> None:
    routes = list(console_routes(app))
    assert len(routes) >= 12, routes  # the walk found the consoles' pages and forms
    worker = staff_client(make_account(roles=(Role.CASE_WORKER,)))
    others = {  # every other role than the console's
        role: staff_client(make_account(roles=tuple(r for r in Role if r not in (role,))))
        for role in set(CONSOLES.values())
    }
    for method, path, role in routes:
        url = _filled(path)
        data = {"csrf_token": worker.csrf}
        for client in (worker, others[role]):
            response = client.http.request(
                method, url, data=data if method == "POST" else None, follow_redirects=False
            )
            assert response.status_code == 403, (method, path, response.status_code)
            assert response.headers["content-type"].startswith("text/html"), (method, path)
            assert "You cannot use this page" in response.text, (method, path)


@pytest.mark.parametrize(
    ("roles", "shown"),
    [
        ((Role.CASE_WORKER,), set()),
        ((Role.SUPERVISOR,), {"/ui/team"}),
        ((Role.ORG_ADMIN,), {"/ui/admin"}),
        ((Role.HUB_ADMIN,), {"/ui/hub"}),
        ((Role.SUPERVISOR, Role.ORG_ADMIN), {"/ui/team", "/ui/admin"}),
    ],
)
def test_the_navigation_offers_the_consoles_of_ones_roles(
    roles: tuple[Role, ...], shown: set[str], make_account: MakeAccount, staff_client: Signed
) -> None:
    home = staff_client(make_account(roles=roles)).get("/ui/")
    assert home.status_code == 200
    nav = home.text.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    offered = {href for href in ("/ui/team", "/ui/admin", "/ui/hub") if f'href="{href}"' in nav}
    assert offered == shown
