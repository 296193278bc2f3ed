"""The one settings object: read from `REFHUB_*` environment variables, checked at start.

Nothing else in refhub reads the environment. A bad value stops start-up with one clear line
per problem (see `load_settings` and `SettingsError`).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kernel.errors import SettingsError

__all__ = ["Settings", "get_settings", "load_settings", "reset_settings_cache"]

_DB_SCHEMES = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}
_BROKER_SCHEMES = ("redis", "rediss")
_PLACEHOLDERS = {"changeme", "change-me", "secret", "please-change", "xxx", "todo"}
_HOST_NAME = re.compile(r"[a-z0-9.-]+|\[?[0-9a-f:.]+\]?")


class Settings(BaseSettings):
    """Runtime configuration. Every field maps to `REFHUB_<FIELD NAME>`."""

    model_config = SettingsConfigDict(env_prefix="REFHUB_", extra="ignore", frozen=True)

    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for the embedded database, key files and exports.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means the embedded SQLite file data_dir/refhub.db.",
    )
    broker_url: str = Field(
        default="",
        description="Celery broker (redis://...). Empty means embedded in-process delivery.",
    )
    keys_dir: Path | None = Field(
        default=None, description="Folder holding key files; default data_dir/keys."
    )
    audit_signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs audit checkpoints; "
        "default keys_dir/audit-signing.pem.",
    )
    audit_witness_dir: Path | None = Field(
        default=None,
        description="Folder of the audit witness, outside the database: every signed "
        "checkpoint is appended to checkpoints.jsonl there (and `refhub audit verify` reads "
        "it back); default data_dir/audit-witness. Ship it off the machine.",
    )
    audit_witness_url: str = Field(
        default="",
        description="If set, every signed checkpoint is also POSTed as JSON to this http(s) "
        "URL (a witness on another machine); one it cannot reach is sent again with the next "
        "checkpoint.",
    )
    audit_witness_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Whole-request timeout of a POST to the witness."
    )
    audit_checkpoint_every_records: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="Sign a checkpoint whenever the audit chain reaches a multiple of this "
        "many records.",
    )
    audit_checkpoint_every_seconds: float = Field(
        default=300.0,
        ge=60,
        le=86400,
        description="Sign a checkpoint when the last one is this old and records were added "
        "since (checked every minute).",
    )
    message_signing_key_file: Path | None = Field(
        default=None,
        description="EC P-256 private JWK that signs messages to agencies (published at "
        "/.well-known/jwks.json); default keys_dir/message-signing.jwk.",
    )
    kek_file: Path | None = Field(
        default=None,
        description="Key-encryption key (32 bytes) wrapping each client's data key; "
        "default keys_dir/kek.key. Created by `refhub keys init`.",
    )
    kek_previous_dir: Path | None = Field(
        default=None,
        description="Folder of earlier key-encryption keys kept readable during a rotation "
        "(one `<kek id>.key` file each); default kek-previous/ beside the KEK file. "
        "`refhub keys rotate` fills it, `refhub keys retire-old` empties it.",
    )
    document_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="Largest document (attachment) accepted, in bytes; default 10 MiB.",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Public URL callers use to reach the hub."
    )
    display_timezone: str = Field(
        default="UTC",
        description="IANA time zone the staff pages show dates and times in (each time is "
        "labelled with its zone), e.g. Europe/Lisbon; the API always answers in UTC.",
    )
    allowed_hosts: str = Field(
        default="localhost,127.0.0.1,::1,testserver",
        description="Host names (comma-separated) answered besides public_base_url's host; "
        "a request naming any other host in its Host header is refused with 400. `*` "
        "accepts every host (only behind a proxy that checks Host itself).",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="If set, /metrics requires `Authorization: Bearer <token>`."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"
    relay_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    relay_batch_size: int = Field(default=100, ge=1, le=10_000)
    db_pool_size: int = Field(default=10, ge=1, le=200)
    delivery_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="Whole-request timeout of a push to a receiver."
    )
    delivery_connect_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Connect timeout of a push to a receiver."
    )
    delivery_max_attempts: int = Field(
        default=12, ge=1, le=100, description="Push attempts before a message is dead-lettered."
    )
    delivery_backoff_base_seconds: float = Field(
        default=2.0, gt=0, le=3600, description="First retry delay; doubles per attempt, jittered."
    )
    delivery_backoff_cap_seconds: float = Field(
        default=3600.0, gt=0, le=86400, description="Longest retry delay (Retry-After included)."
    )
    delivery_batch_size: int = Field(
        default=50,
        ge=1,
        le=500,
        description="Messages one worker task claims, pushes and settles together.",
    )
    delivery_push_concurrency: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Pushes of one batch in flight at once (messages about the same "
        "referral always go one after another, in order).",
    )
    delivery_allow_http: bool = Field(
        default=False,
        description="Allow plain http:// receiver endpoints (local testing only; never in "
        "production: payloads are encrypted, but notifications and metadata are not).",
    )
    sign_in_throttle_attempts: int = Field(
        default=20,
        ge=1,
        le=100_000,
        description="Sign-in attempts (a password or an authenticator code, API or web form) "
        "one client address may make per sign_in_throttle_window_seconds; more answer 429.",
    )
    sign_in_throttle_window_seconds: float = Field(
        default=300.0, gt=0, le=86400, description="The sliding window of the sign-in throttle."
    )
    token_throttle_requests: int = Field(
        default=60,
        ge=1,
        le=100_000,
        description="Token requests (POST /auth/token) one client address may make per "
        "token_throttle_window_seconds; more answer 429.",
    )
    token_throttle_window_seconds: float = Field(
        default=60.0, gt=0, le=86400, description="The sliding window of the token throttle."
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value:
            return value
        scheme = urlsplit(value).scheme
        base = scheme.split("+", 1)[0]
        if base not in _DB_SCHEMES:
            raise ValueError(
                f"unsupported scheme {scheme!r}; use sqlite:///path/to/file.db "
                "or postgresql://user@host:5432/dbname"
            )
        if base == "postgresql" and "+" not in scheme:
            value = _DB_SCHEMES["postgresql"] + value[len(scheme) :]
        elif base == "postgresql" and scheme != _DB_SCHEMES["postgresql"]:
            raise ValueError(f"driver {scheme!r} is not supported; use postgresql+psycopg://")
        return value

    @field_validator("broker_url")
    @classmethod
    def _check_broker_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in _BROKER_SCHEMES:
            raise ValueError(
                "the broker must be Redis: redis://host:6379/0 (or rediss:// for TLS); "
                "leave it empty for embedded in-process delivery"
            )
        return value

    @field_validator("audit_witness_url")
    @classmethod
    def _check_audit_witness_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in ("http", "https") or not parts.netloc):
            raise ValueError(
                "must be an absolute http(s) URL such as https://witness.example.org/refhub"
            )
        if parts.fragment:
            raise ValueError("must not carry a fragment")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _check_public_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an absolute http(s) URL such as https://refhub.example.org")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or fragment")
        return value.rstrip("/")

    @field_validator("display_timezone")
    @classmethod
    def _check_display_timezone(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Lisbon") from None
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _check_allowed_hosts(cls, value: str) -> str:
        names = [name.strip().lower() for name in value.split(",") if name.strip()]
        for name in names:
            if name != "*" and not _HOST_NAME.fullmatch(name):
                raise ValueError(
                    f"{name!r} is not a host name; list names without scheme or port, "
                    "such as refhub.internal,localhost"
                )
        return ",".join(names)

    @field_validator("metrics_token")
    @classmethod
    def _check_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            secret = value.get_secret_value()
            if secret.lower() in _PLACEHOLDERS or len(secret) < 16:
                raise ValueError("is a placeholder or shorter than 16 characters")
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        # frozen model: derived defaults are set once, here.
        if not self.database_url:
            db_file = (self.data_dir / "refhub.db").resolve()
            object.__setattr__(self, "database_url", f"sqlite:///{db_file}")
        if self.keys_dir is None:
            object.__setattr__(self, "keys_dir", self.data_dir / "keys")
        if self.audit_signing_key_file is None:
            object.__setattr__(self, "audit_signing_key_file", self.key_dir / "audit-signing.pem")
        if self.audit_witness_dir is None:
            object.__setattr__(self, "audit_witness_dir", self.data_dir / "audit-witness")
        if self.message_signing_key_file is None:
            object.__setattr__(
                self, "message_signing_key_file", self.key_dir / "message-signing.jwk"
            )
        if self.kek_file is None:
            object.__setattr__(self, "kek_file", self.key_dir / "kek.key")
        if self.kek_previous_dir is None:
            object.__setattr__(self, "kek_previous_dir", self.kek_path.parent / "kek-previous")
        return self

    @property
    def key_dir(self) -> Path:
        """The folder of key files (never None after validation)."""
        return self.keys_dir if self.keys_dir is not None else self.data_dir / "keys"

    @property
    def audit_key_path(self) -> Path:
        assert self.audit_signing_key_file is not None
        return self.audit_signing_key_file

    @property
    def audit_witness_path(self) -> Path:
        """The audit witness folder (never None after validation)."""
        assert self.audit_witness_dir is not None
        return self.audit_witness_dir

    @property
    def message_key_path(self) -> Path:
        assert self.message_signing_key_file is not None
        return self.message_signing_key_file

    @property
    def kek_path(self) -> Path:
        """The key-encryption key file (never None after validation)."""
        assert self.kek_file is not None
        return self.kek_file

    @property
    def kek_previous_path(self) -> Path:
        """The folder of earlier KEKs still readable (never None after validation)."""
        assert self.kek_previous_dir is not None
        return self.kek_previous_dir

    @property
    def public_url_is_https(self) -> bool:
        """True when callers reach the hub over https (Secure cookies, HSTS)."""
        return self.public_base_url.startswith("https://")

    @property
    def allowed_host_names(self) -> frozenset[str]:
        """The Host names the hub answers: the public URL's, then `allowed_hosts` (lower
        case, IPv6 without brackets); `*` among them accepts every host."""
        public = urlsplit(self.public_base_url).hostname or ""
        extra = (name.strip().lower().strip("[]") for name in self.allowed_hosts.split(","))
        return frozenset({public, *extra} - {""})

    @property
    def embedded_delivery(self) -> bool:
        """True when no broker is configured: the outbox runs in-process."""
        return not self.broker_url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    """Read and validate the settings.

    Raises:
        SettingsError: one line per bad value, naming the environment variable and the fix.
    """
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            name = f"REFHUB_{field.upper()}" if field else "settings"
            message = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
        raise SettingsError("; ".join(lines)) from None


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, loaded once."""
    return load_settings()


def reset_settings_cache() -> None:
    """Forget the loaded settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
