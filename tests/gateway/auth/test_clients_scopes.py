"""SMART system scopes: v1 and v2 forms, matching, and what a token request is granted."""

from __future__ import annotations

import pytest

from gateway.auth.clients.scopes import grantable, parse_scope, scope_allows


@pytest.mark.parametrize(
    ("text", "resource_type", "letters"),
    [
        ("system/ServiceRequest.cruds", "ServiceRequest", "cruds"),
        ("system/Task.rs", "Task", "rs"),
        ("system/Task.cud", "Task", "cud"),
        ("system/Patient.r", "Patient", "r"),
        ("system/*.cruds", "*", "cruds"),
        ("system/*.read", "*", "rs"),
        ("system/Task.write", "Task", "cud"),
        ("system/*.*", "*", "cruds"),
        ("system/Consent.*", "Consent", "cruds"),
    ],
)
def test_v1_and_v2_scopes_parse(text: str, resource_type: str, letters: str) -> None:
    scope = parse_scope(text)
    assert scope is not None
    assert scope.resource_type == resource_type
    assert scope.interactions == frozenset(letters)


@pytest.mark.parametrize(
    "text",
    [
        "patient/Task.rs",
        "user/*.read",
        "system/Task.sr",  # v2 letters out of order
        "system/Task.rr",
        "system/Task.x",
        "system/Task.",
        "system/task.rs",
        "system/Task.rs?category=x",
        "system/*.readwrite",
        "openid",
        "launch",
        "",
        "system/Task.rs ",
    ],
)
def test_other_scopes_are_not_understood(text: str) -> None:
    assert parse_scope(text) is None


def test_scope_allows_v2_letters() -> None:
    granted = frozenset({"system/ServiceRequest.cruds", "system/Task.rs"})
    assert scope_allows(granted, "ServiceRequest", "c")
    assert scope_allows(granted, "ServiceRequest", "d")
    assert scope_allows(granted, "Task", "r")
    assert scope_allows(granted, "Task", "s")
    assert not scope_allows(granted, "Task", "u")
    assert not scope_allows(granted, "Patient", "r")
    assert not scope_allows(granted, "*", "r")


def test_scope_allows_v1_forms_and_wildcards() -> None:
    read_all = frozenset({"system/*.read"})
    assert scope_allows(read_all, "Consent", "r")
    assert scope_allows(read_all, "Consent", "s")
    assert not scope_allows(read_all, "Consent", "c")
    write_task = frozenset({"system/Task.write"})
    assert {i for i in "cruds" if scope_allows(write_task, "Task", i)} == set("cud")
    everything = frozenset({"system/*.*"})
    assert all(scope_allows(everything, "Task", i) for i in "cruds")
    assert scope_allows(everything, "*", "d")


def test_scope_allows_ignores_junk_and_checks_the_interaction() -> None:
    assert not scope_allows(frozenset({"openid", "patient/*.read"}), "Task", "r")
    assert not scope_allows(frozenset(), "Task", "r")
    with pytest.raises(ValueError, match="interaction"):
        scope_allows(frozenset({"system/*.*"}), "Task", "read")


def test_grantable_keeps_requested_scopes_the_allowed_ones_cover() -> None:
    allowed = ["system/ServiceRequest.cruds", "system/Task.rs"]
    assert grantable("system/Task.rs system/ServiceRequest.r", allowed) == [
        "system/Task.rs",
        "system/ServiceRequest.r",
    ]
    assert grantable("system/Task.read", allowed) == ["system/Task.read"]
    assert grantable("system/Task.cruds", allowed) == []
    assert grantable("system/*.read", allowed) == []  # a wildcard needs a wildcard grant
    assert grantable("openid system/Task.r system/Task.r", allowed) == ["system/Task.r"]


def test_grantable_with_wildcard_allowance() -> None:
    allowed = ["system/*.read", "system/Task.cud"]
    assert grantable("system/Consent.rs system/Task.cruds system/*.write", allowed) == [
        "system/Consent.rs",
        "system/Task.cruds",
    ]
