"""`refhub keys`: create the hub's key files; rotate and retire key-encryption keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from consent import errors as consent_errors
from consent import keys as consent_keys
from consent import vault as consent_vault
from gateway.cli.context import cli_runtime
from gateway.delivery.keys import generate_message_key_file, load_message_key
from gateway.runtime import Runtime
from kernel import audit
from kernel.crypto import ed25519_key_id, generate_ed25519_key_file, load_ed25519_private_key
from kernel.db import transaction
from kernel.errors import StartupError

app = typer.Typer(help="Key material.", no_args_is_help=True)
ACTOR = "system:cli"


@app.command("init")
def init() -> None:
    """Create every missing key file (existing keys are never replaced)."""
    settings = cli_runtime().settings
    path = settings.audit_key_path
    created = generate_ed25519_key_file(path)
    key_id = ed25519_key_id(load_ed25519_private_key(path).public_key())
    typer.echo(f"audit signing key {'created' if created else 'present'}: {path} (kid {key_id})")
    message_key = settings.message_key_path
    created = generate_message_key_file(message_key)
    message_kid = load_message_key(message_key).kid
    typer.echo(
        f"message signing key {'created' if created else 'present'}: {message_key} "
        f"(kid {message_kid})"
    )
    kek = settings.kek_path
    created = consent_vault.generate_kek_file(kek)
    kek_id = consent_vault.load_kek(kek).id
    typer.echo(f"key-encryption key {'created' if created else 'present'}: {kek} (id {kek_id})")


def _unit(runtime: Runtime) -> consent_keys.Unit:
    @contextmanager
    def unit() -> Iterator[Session]:
        with transaction(runtime.sessions) as session:
            yield session

    return unit


def _keyring(runtime: Runtime) -> consent_vault.Keyring:
    settings = runtime.settings
    try:
        return consent_vault.load_keyring(settings.kek_path, settings.kek_previous_path)
    except consent_errors.KeyUnavailable as exc:
        raise StartupError(exc.detail) from None


def _audit(runtime: Runtime, action: str, detail: dict[str, str | int | bool | None]) -> None:
    with transaction(runtime.sessions) as session:
        audit.record(session, actor=ACTOR, action=action, detail=detail)


@app.command("status")
def status() -> None:
    """Show the keyring and how many client keys each KEK wraps."""
    runtime = cli_runtime(check_schema=True)
    ring = _keyring(runtime)
    with runtime.sessions() as session:
        in_use = consent_keys.keys_in_use(session)
    typer.echo(f"current KEK {ring.current.id}: {in_use.get(ring.current.id, 0)} client key(s)")
    for kek in ring.previous:
        typer.echo(f"earlier KEK {kek.id}: {in_use.get(kek.id, 0)} client key(s)")
    for kek_id, count in sorted(in_use.items()):
        if kek_id not in ring.ids:
            typer.echo(f"MISSING KEK {kek_id}: {count} client key(s) cannot be read")
    if consent_keys.pending(in_use, ring):
        typer.echo("a rotation is unfinished: run `refhub keys rotate` to complete it")


@app.command("rotate")
def rotate(
    batch_size: Annotated[
        int, typer.Option(min=1, max=10_000, help="Client keys re-wrapped per transaction.")
    ] = 200,
) -> None:
    """Make a new KEK current and re-wrap every client's data key under it, in small
    committed batches, while the hub keeps serving. Safe to run again after an
    interruption: an unfinished rotation is resumed (no further KEK is made). The old
    KEK stays readable until `refhub keys retire-old`."""
    runtime = cli_runtime(check_schema=True)
    settings = runtime.settings
    _keyring(runtime)
    run = consent_keys.Rotation(from_kek=None, to_kek="", resumed=False)

    def progress(current: consent_keys.Rotation) -> None:
        typer.echo(f"  re-wrapped {current.rewrapped} client key(s) ({current.batches} batches)")

    try:
        consent_keys.rotate(
            _unit(runtime),
            settings.kek_path,
            settings.kek_previous_path,
            batch_size=batch_size,
            progress=progress,
            rotation=run,
        )
    finally:
        if run.to_kek:
            _audit(runtime, "keys.rotate", run.audit_detail())
    verb = "resumed the rotation to" if run.resumed else f"rotated from {run.from_kek} to"
    typer.echo(f"{verb} KEK {run.to_kek}")
    typer.echo(
        f"re-wrapped {run.rewrapped} client key(s) in {run.batches} batch(es); "
        f"{run.raced} changed meanwhile (erased or re-wrapped elsewhere), {run.failed} damaged"
    )
    if run.completed:
        typer.echo("every client key is under the new KEK: `refhub keys retire-old` may follow")
    else:
        left = ", ".join(f"{k}: {n}" for k, n in sorted(run.remaining.items()))
        typer.echo(f"still under other KEKs ({left}); see `refhub keys status`")
        raise typer.Exit(1)


@app.command("retire-old")
def retire_old(
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Destroy the earlier KEKs once no client key is wrapped by them (refused otherwise).
    Destroy their backups too: a retired KEK must not survive anywhere."""
    runtime = cli_runtime(check_schema=True)
    settings = runtime.settings
    ring = _keyring(runtime)
    if not ring.previous:
        typer.echo("no earlier KEKs to retire")
        return
    with runtime.sessions() as session:
        _, busy = consent_keys.retirable(consent_keys.keys_in_use(session), ring)
    if not busy and not yes:
        typer.confirm(
            f"Destroy {len(ring.previous)} earlier KEK(s) in {settings.kek_previous_path}?",
            abort=True,
        )
    try:
        destroyed = consent_keys.retire_old(
            _unit(runtime), settings.kek_path, settings.kek_previous_path
        )
    except consent_errors.KeyUnavailable as exc:
        _audit(runtime, "keys.retire", {"refused": "in-use", "completed": False})
        raise StartupError(exc.detail) from None
    _audit(runtime, "keys.retire", {"destroyed": len(destroyed), "keks": ",".join(destroyed)})
    typer.echo(f"destroyed {len(destroyed)} earlier KEK(s): {', '.join(destroyed)}")
