"""The `refhub` command: every command listed, clear one-line start-up errors, a real serve."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import REFHUB, Databases, wait_for
from tests.gateway.private_redis import free_port

COMMANDS = ("serve", "worker", "beat", "demo", "db", "audit", "keys")


def run(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REFHUB, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_help_lists_every_command(env_base: dict[str, str]) -> None:
    result = run(["--help"], env_base)
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout
    for group, subs in (
        ("db", ("upgrade", "current")),
        ("audit", ("verify", "checkpoint")),
        ("keys", ("init",)),
    ):
        out = run([group, "--help"], env_base).stdout
        assert all(sub in out for sub in subs)


def test_version(env_base: dict[str, str]) -> None:
    result = run(["--version"], env_base)
    assert result.returncode == 0 and result.stdout.startswith("refhub 0.")


@pytest.mark.parametrize(
    ("variables", "args", "expected"),
    [
        (
            {"REFHUB_DATABASE_URL": "mysql://x@y/z"},
            ["db", "upgrade"],
            "REFHUB_DATABASE_URL: unsupported scheme",
        ),
        (
            {"REFHUB_BROKER_URL": "kafka://x"},
            ["serve"],
            "REFHUB_BROKER_URL: the broker must be Redis",
        ),
        (
            {"REFHUB_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"},
            ["serve"],
            "cannot reach the database postgresql+psycopg://postgres@127.0.0.1:1/none",
        ),
        (
            {"REFHUB_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"},
            ["db", "upgrade"],
            "cannot migrate postgresql+psycopg://postgres@127.0.0.1:1/none",
        ),
        ({}, ["worker"], "no broker configured"),
    ],
)
def test_startup_errors_are_one_clear_line(
    env_base: dict[str, str], variables: dict[str, str], args: list[str], expected: str
) -> None:
    result = run(args, {**env_base, **variables})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("refhub: error: ") and expected in lines[0]


def test_broker_down_at_start(env_base: dict[str, str], databases: Databases) -> None:
    env = {
        **env_base,
        "REFHUB_DATABASE_URL": databases.create(),
        "REFHUB_BROKER_URL": "redis://127.0.0.1:1/0",
    }
    for command in ("worker", "beat", "serve"):
        result = run([command], env)
        assert result.returncode == 2
        assert "cannot reach the broker redis://127.0.0.1:1/0" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_old_schema_is_refused_until_upgraded(
    env_base: dict[str, str], databases: Databases, backend: str
) -> None:
    env = {**env_base, "REFHUB_DATABASE_URL": databases.create(migrate=False)}
    result = run(["demo"], env)
    if backend == "sqlite":  # the embedded hub migrates its own database for the demo
        assert result.returncode == 0, result.stderr
        assert "Demo data is loaded." in result.stdout
        assert "Web UI:" in result.stdout
        return
    assert result.returncode == 2
    assert "run `refhub db upgrade`" in result.stderr
    assert run(["db", "upgrade"], env).returncode == 0
    assert run(["demo"], env).returncode == 0


def test_demo_prepares_a_fresh_embedded_data_folder(
    env_base: dict[str, str], tmp_path: Path
) -> None:
    """`refhub demo` on a new machine: no `db upgrade` or `keys init` needed first, and the
    commands it prints run as printed."""
    env = {
        **env_base,
        "REFHUB_DATA_DIR": str(tmp_path / "data"),
        "REFHUB_PUBLIC_BASE_URL": "http://127.0.0.1:8123",
    }
    result = run(["demo"], env, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "Web UI:         http://127.0.0.1:8123/ui/" in result.stdout
    assert "(sign in with a staff account below)" in result.stdout
    printed = next(line for line in result.stdout.splitlines() if "demo code EMAIL" in line)
    command = printed.split("`")[1].replace("EMAIL", "caseworker@northside.demo.refhub.org")
    code = subprocess.run(
        command.split(), env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert code.returncode == 0 and code.stdout.strip().isdigit(), code.stderr


@pytest.mark.parametrize(
    ("variable", "file_name"),
    [
        ("REFHUB_AUDIT_SIGNING_KEY_FILE", "absent.pem"),
        ("REFHUB_KEK_FILE", "absent.key"),
        ("REFHUB_MESSAGE_SIGNING_KEY_FILE", "absent.jwk"),
    ],
)
def test_a_missing_key_file_stops_serve(
    variable: str,
    file_name: str,
    env_base: dict[str, str],
    databases: Databases,
    tmp_path: Path,
) -> None:
    env = {
        **env_base,
        "REFHUB_DATABASE_URL": databases.create(),
        variable: str(tmp_path / file_name),
    }
    result = run(["serve"], env)
    assert result.returncode == 2
    assert f"{file_name} does not exist; run `refhub keys init`" in result.stderr


def test_fresh_laptop_flow_serves_and_stops_cleanly(tmp_path: Path) -> None:
    """The `make run` sequence in an empty folder: migrate, keys, demo, serve, Ctrl-C."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFHUB_")}
    env["REFHUB_DATA_DIR"] = str(tmp_path / "data")
    for args in (["db", "upgrade"], ["keys", "init"], ["demo"], ["demo"]):
        result = subprocess.run(
            [REFHUB, *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    assert "Demo data is loaded." in result.stdout
    port = free_port()
    server = subprocess.Popen(
        [REFHUB, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            try:
                return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, timeout=30, what="refhub serve to become ready")
        assert httpx.get(f"{base}/docs").status_code == 200
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "refhub"
    finally:
        server.send_signal(signal.SIGINT)
        code = server.wait(30)
        _out, err = server.communicate()
    assert code == 0, err.decode()
    assert b"Traceback" not in err
    verify = subprocess.run(
        [REFHUB, "audit", "verify"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0 and "audit chain OK" in verify.stdout
