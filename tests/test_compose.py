"""docker-compose.yml stays runnable: every command it gives refhub exists, every setting
it passes is a real setting, and the services wait for what they need."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from gateway.cli.main import app
from kernel.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _refhub_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: svc
        for name, svc in compose["services"].items()
        if svc.get("image") == "refhub:latest"
    }


def _parse(args: list[str]) -> list[str]:
    """Parse `refhub <args>` with the real CLI; return the command path, or raise."""
    command: Any = typer.main.get_command(app)
    path: list[str] = []
    remaining = list(args)
    while hasattr(command, "resolve_command"):  # a group (typer vendors its own click)
        ctx = command.make_context("refhub", remaining, resilient_parsing=False)
        name, sub, remaining = command.resolve_command(ctx, ctx._protected_args + ctx.args)
        assert sub is not None and name is not None
        path.append(name)
        command = sub
    command.make_context(path[-1], remaining, resilient_parsing=False)  # options must exist
    return path


def test_every_command_is_a_real_refhub_command(compose: dict[str, Any]) -> None:
    services = _refhub_services(compose)
    assert {"migrate", "keys", "api", "worker", "beat"} <= set(services)
    paths = {name: _parse(svc["command"]) for name, svc in services.items()}
    assert paths["migrate"] == ["db", "upgrade"]
    assert paths["api"] == ["serve"] and paths["worker"] == ["worker"] and paths["beat"] == ["beat"]


def test_an_unknown_command_would_be_caught() -> None:
    for bad in (["serve", "--no-such-option"], ["frobnicate"], ["db", "downgrade-all"]):
        with pytest.raises(Exception) as info:
            _parse(bad)
        assert type(info.value).__name__ in {"NoSuchOption", "UsageError"}, bad


def test_settings_are_real_settings(compose: dict[str, Any]) -> None:
    fields = {f"REFHUB_{name.upper()}" for name in Settings.model_fields}
    for svc in _refhub_services(compose).values():
        names = set(svc["environment"])
        assert names <= fields, names - fields
        assert svc["environment"]["REFHUB_DATABASE_URL"].startswith("postgresql://")
        assert svc["environment"]["REFHUB_BROKER_URL"].startswith("redis://")


def test_services_wait_for_their_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("postgres", "redis", "api", "worker"):
        assert "healthcheck" in services[name], name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
    for volume in ("postgres-data", "redis-data", "refhub-data", "refhub-keys"):
        assert volume in compose["volumes"]
