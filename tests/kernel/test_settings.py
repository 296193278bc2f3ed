"""Settings: defaults that run a laptop hub, and one clear line for every bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.errors import SettingsError
from kernel.settings import Settings, load_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in (
        "DATABASE_URL",
        "BROKER_URL",
        "KEYS_DIR",
        "AUDIT_SIGNING_KEY_FILE",
        "PUBLIC_BASE_URL",
        "METRICS_TOKEN",
        "LOG_LEVEL",
    ):
        monkeypatch.delenv(f"REFHUB_{name}", raising=False)
    monkeypatch.setenv("REFHUB_DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


def test_defaults_are_the_embedded_hub(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.database_url == f"sqlite:///{(tmp_path / 'data' / 'refhub.db').resolve()}"
    assert settings.embedded_delivery
    assert settings.audit_key_path == tmp_path / "data" / "keys" / "audit-signing.pem"
    assert settings.public_base_url == "http://127.0.0.1:8000"


def test_postgres_url_gets_the_psycopg_driver(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("REFHUB_DATABASE_URL", "postgresql://app@db:5432/refhub")
    assert load_settings().database_url == "postgresql+psycopg://app@db:5432/refhub"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "REFHUB_DATABASE_URL",
            "mysql://root@localhost/x",
            "REFHUB_DATABASE_URL: unsupported scheme",
        ),
        ("REFHUB_DATABASE_URL", "postgresql+asyncpg://x@y/z", "REFHUB_DATABASE_URL: driver"),
        (
            "REFHUB_BROKER_URL",
            "amqp://guest@localhost//",
            "REFHUB_BROKER_URL: the broker must be Redis",
        ),
        (
            "REFHUB_PUBLIC_BASE_URL",
            "refhub.example.org",
            "REFHUB_PUBLIC_BASE_URL: must be an absolute",
        ),
        ("REFHUB_METRICS_TOKEN", "changeme", "REFHUB_METRICS_TOKEN: is a placeholder"),
        ("REFHUB_LOG_LEVEL", "loud", "REFHUB_LOG_LEVEL:"),
        ("REFHUB_RELAY_INTERVAL_SECONDS", "-1", "REFHUB_RELAY_INTERVAL_SECONDS:"),
    ],
)
def test_bad_value_names_the_variable(
    clean_env: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value).startswith(expected)
    assert "\n" not in str(info.value)


def test_every_bad_value_is_reported_at_once(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("REFHUB_DATABASE_URL", "oracle://x")
    clean_env.setenv("REFHUB_BROKER_URL", "kafka://x")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "REFHUB_DATABASE_URL" in str(info.value)
    assert "REFHUB_BROKER_URL" in str(info.value)


def test_secrets_never_print(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("REFHUB_METRICS_TOKEN", "a-long-enough-metrics-token")
    settings = Settings()
    assert "a-long-enough-metrics-token" not in repr(settings)
    assert "a-long-enough-metrics-token" not in str(settings.model_dump())
