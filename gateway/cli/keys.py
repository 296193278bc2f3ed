"""`refhub keys`: create the hub's key files."""

from __future__ import annotations

import typer

from consent import vault as consent_vault
from gateway.cli.context import cli_runtime
from gateway.delivery.keys import generate_message_key_file, load_message_key
from kernel.crypto import ed25519_key_id, generate_ed25519_key_file, load_ed25519_private_key

app = typer.Typer(help="Key material.", no_args_is_help=True)


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
