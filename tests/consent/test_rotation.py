"""KEK rotation: every client's data key is re-wrapped under the new KEK in committed
batches, identities and sealed data keep opening, an interrupted rotation resumes, earlier
KEKs are retired only once nothing uses them, and a backup's wrapped keys are dead once the
KEK that wrapped them is retired. Each test has its own keyring (REFHUB_KEK_FILE)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import clients, erasure, vault
from consent import keys as consent_keys
from consent.errors import KeyUnavailable
from consent.models import Client, ErasureBasis
from gateway.runtime import Runtime
from kernel.errors import StartupError
from kernel.settings import Settings, reset_settings_cache
from tests.consent.factories import make_client, staff


@pytest.fixture
def keyring_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    current, previous = tmp_path / "kek.key", tmp_path / "kek-previous"
    vault.generate_kek_file(current)
    monkeypatch.setenv("REFHUB_KEK_FILE", str(current))
    monkeypatch.setenv("REFHUB_KEK_PREVIOUS_DIR", str(previous))
    reset_settings_cache()
    yield current, previous
    monkeypatch.undo()
    reset_settings_cache()


def _unit(db: Session) -> consent_keys.Unit:
    @contextmanager
    def unit() -> Iterator[Session]:
        yield db
        db.flush()

    return unit


def _kek_of(db: Session, client_id: uuid.UUID) -> str:
    return db.scalars(select(Client.kek_id).where(Client.id == client_id)).one()


def test_rotation_rewraps_every_client_and_everything_still_opens(
    db: Session, keyring_files: tuple[Path, Path]
) -> None:
    current, previous = keyring_files
    caller = staff()
    people = [make_client(db, caller, name=f"Rotated Person {i}") for i in range(5)]
    sealed = {
        c.id: clients.seal_for_client(db, c.id, b"packet %d" % i, "packet:x")
        for i, c in enumerate(people)
    }
    old_id = vault.load_keyring(current, previous).current.id
    assert {_kek_of(db, c.id) for c in people} == {old_id}

    run = consent_keys.rotate(_unit(db), current, previous, batch_size=2)

    ring = vault.load_keyring(current, previous)
    assert ring.current.id == run.to_kek != old_id and run.from_kek == old_id
    assert (previous / f"{old_id}.key").exists()
    assert not run.resumed and run.rewrapped >= 5 and run.batches >= 3
    assert run.remaining.get(old_id, 0) == 0
    db.expire_all()
    for i, c in enumerate(people):
        assert _kek_of(db, c.id) == ring.current.id
        row = db.get(Client, c.id)
        assert row is not None
        assert clients.identity_of(row)["name"] == f"Rotated Person {i}"
        assert clients.open_for_client(db, c.id, sealed[c.id], "packet:x") == b"packet %d" % i
    # new clients are wrapped by the new KEK at once
    assert make_client(db, caller).kek_id == ring.current.id


def test_an_interrupted_rotation_resumes_without_a_further_kek(
    db: Session, keyring_files: tuple[Path, Path]
) -> None:
    current, previous = keyring_files
    caller = staff()
    people = [make_client(db, caller) for _ in range(4)]

    def stop_after_first_batch(run: consent_keys.Rotation) -> None:
        raise KeyboardInterrupt

    partial = consent_keys.Rotation(from_kek=None, to_kek="", resumed=False)
    with pytest.raises(KeyboardInterrupt):
        consent_keys.rotate(
            _unit(db),
            current,
            previous,
            batch_size=1,
            progress=stop_after_first_batch,
            rotation=partial,
        )
    assert partial.rewrapped == 1 and not partial.completed
    new_id = vault.load_keyring(current, previous).current.id
    assert sorted(_kek_of(db, c.id) == new_id for c in people) == [False, False, False, True]
    # retiring now would strand three clients: refused, and nothing is destroyed
    with pytest.raises(KeyUnavailable, match="still wrapped"):
        consent_keys.retire_old(_unit(db), current, previous)
    assert len(list(previous.glob("*.key"))) == 1

    again = consent_keys.rotate(_unit(db), current, previous, batch_size=1)

    assert again.resumed and again.to_kek == new_id and again.rewrapped == 3
    assert vault.load_keyring(current, previous).current.id == new_id
    assert all(_kek_of(db, c.id) == new_id for c in people)


def test_old_keks_are_retired_only_when_unused_and_backups_die_with_them(
    db: Session, keyring_files: tuple[Path, Path]
) -> None:
    current, previous = keyring_files
    caller = staff()
    person = make_client(db, caller, name="Backed Up Person")
    sealed = clients.seal_for_client(db, person.id, b"referral packet", "packet:b")
    backup = (person.id, person.kek_id, person.wrapped_key)  # what a database backup holds
    assert backup[2] is not None
    consent_keys.rotate(_unit(db), current, previous)
    old_ring = vault.load_keyring(current, previous)
    assert backup[1] in old_ring.ids  # until retirement, the backup's key still opens

    destroyed = consent_keys.retire_old(_unit(db), current, previous)

    assert destroyed == [backup[1]] and list(previous.glob("*.key")) == []
    ring = vault.load_keyring(current, previous)
    assert ring.ids == {ring.current.id}
    with pytest.raises(KeyUnavailable):
        ring.get(backup[1]).unwrap(backup[2], person.id)
    # the live copy opens under the new KEK; after erasure nothing opens at all
    assert clients.open_for_client(db, person.id, sealed, "packet:b") == b"referral packet"
    erasure.erase_client(
        db,
        actor="system:cli",
        organisation_id=None,
        client_id=person.id,
        basis=ErasureBasis.RETENTION_ENDED,
        reason="Retention period of 7 years ended",
    )
    again = consent_keys.rotate(_unit(db), current, previous)
    assert again.rewrapped == 0
    db.expire_all()
    assert db.get(Client, person.id).wrapped_key is None  # type: ignore[union-attr]


def test_a_running_process_follows_a_rotation(keyring_files: tuple[Path, Path]) -> None:
    current, previous = keyring_files
    before = vault.load_keyring(current, previous)
    assert vault.load_keyring(current, previous) is before  # cached while nothing changes
    old_id, new_id = vault.install_new_kek(current, previous)
    after = vault.load_keyring(current, previous)
    assert (before.current.id, after.current.id) == (old_id, new_id)
    assert after.get(old_id).id == old_id
    assert current.stat().st_mode & 0o777 == 0o600
    assert (previous / f"{old_id}.key").stat().st_mode & 0o777 == 0o600


def test_startup_fails_clearly_without_the_current_kek(settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "kek.key"
    broken_runtime = Runtime(settings.model_copy(update={"kek_file": missing}))
    with pytest.raises(StartupError, match="does not exist; run `refhub keys init`"):
        broken_runtime.check_keys()
    bad_previous = tmp_path / "previous"
    bad_previous.mkdir()
    (bad_previous / "old.key").write_bytes(b"short")
    runtime = Runtime(settings.model_copy(update={"kek_previous_dir": bad_previous}))
    with pytest.raises(StartupError, match="32 bytes"):
        runtime.check_keys()
