"""The composed runtime of one process: settings, database sessions, delivery mode.

Built once by the app, the CLI and the Celery worker from the validated settings;
`check_startup()` turns every unusable part into one clear `StartupError` line.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import ECKey
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from consent import errors as consent_errors
from consent import vault as consent_vault
from gateway.delivery.broker import broker_reachable
from gateway.delivery.keys import load_message_key
from gateway.migrations import current_revision, head_revision
from kernel.crypto import load_ed25519_private_key
from kernel.db import engine_for, ping, session_factory
from kernel.errors import StartupError
from kernel.settings import Settings

__all__ = ["Runtime"]


@dataclass
class Runtime:
    settings: Settings

    @property
    def engine(self) -> Engine:
        return engine_for(self.settings.database_url, self.settings.db_pool_size)

    @property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.settings.database_url, self.settings.db_pool_size)

    @property
    def database_label(self) -> str:
        """The database URL without its password, for messages."""
        return make_url(self.settings.database_url).render_as_string(hide_password=True)

    @cached_property
    def audit_signing_key(self) -> Ed25519PrivateKey:
        return load_ed25519_private_key(self.settings.audit_key_path)

    def check_database(self) -> None:
        """Raise StartupError unless the database answers and its schema is current."""
        settings = self.settings
        if settings.is_sqlite:
            db_file = make_url(settings.database_url).database or ""
            if db_file and db_file != ":memory:" and not Path(db_file).exists():
                raise StartupError(
                    f"the embedded database {db_file} does not exist yet: run `refhub db upgrade`"
                )
        try:
            ping(self.engine)
        except (OperationalError, DBAPIError) as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise StartupError(
                f"cannot reach the database {self.database_label} ({reason}); start it or "
                "fix REFHUB_DATABASE_URL"
            ) from None
        current, head = current_revision(self.engine), head_revision()
        if current != head:
            raise StartupError(
                f"the database schema is at {current or 'nothing'} but refhub needs {head}: "
                "run `refhub db upgrade`"
            )

    def check_broker(self) -> None:
        """Raise StartupError when a broker is configured but does not answer."""
        if self.settings.embedded_delivery:
            return
        problem = broker_reachable(self.settings.broker_url)
        if problem:
            raise StartupError(
                f"cannot reach the broker {self.broker_label} ({problem}); start Redis or "
                "fix REFHUB_BROKER_URL (leave it empty for embedded delivery)"
            )

    @property
    def broker_label(self) -> str:
        return make_url(self.settings.broker_url).render_as_string(hide_password=True)

    @cached_property
    def message_signing_key(self) -> ECKey:
        return load_message_key(self.settings.message_key_path)

    def check_keys(self) -> None:
        """Raise StartupError unless every key file the hub needs is present and valid."""
        _ = self.audit_signing_key
        _ = self.message_signing_key
        try:
            # The current KEK and every earlier one kept for a rotation must be readable.
            consent_vault.load_keyring(self.settings.kek_path, self.settings.kek_previous_path)
        except consent_errors.KeyUnavailable as exc:
            raise StartupError(exc.detail) from None

    def check_startup(self) -> None:
        """Everything a serving process needs, checked before it serves."""
        self.check_database()
        self.check_broker()
        self.check_keys()
