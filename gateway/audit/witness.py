"""The audit witness: every signed checkpoint copied outside the database, append-only.

Whoever can write to the database can delete checkpoint rows, rewrite the chain and
recompute its hashes; they cannot take back a line already in the witness file (kept, or
shipped, where the database's users cannot write) nor one an HTTP witness accepted.
`refhub audit verify` reads the file back and checks the chain against it.

The file is JSON lines (`checkpoints.jsonl` in REFHUB_AUDIT_WITNESS_DIR), one checkpoint a
line, in sequence order: `{"head_hash", "key_id", "seq", "signature" (base64),
"signed_at"}`. It is only ever opened for appending (O_APPEND), each write is fsync'd, and
writers take an exclusive lock on it, so several worker processes on one machine append
each checkpoint once. The HTTP witness gets the same objects POSTed one by one; the seq
it last accepted is kept beside the file, so one it could not reach is sent again next time.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import fcntl
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog

from gateway.audit.errors import WitnessUnavailable
from kernel.crypto import canonical_json
from kernel.settings import Settings

__all__ = [
    "CURSOR_NAME",
    "FILE_NAME",
    "FileWitness",
    "HttpWitness",
    "WitnessReading",
    "WitnessedCheckpoint",
    "Witnesses",
]

log = structlog.get_logger(__name__)
FILE_NAME = "checkpoints.jsonl"
CURSOR_NAME = "http-witness.json"
#: The newest checkpoint pins every record before it (the chain is hash-linked), so a
#: witness that fell behind needs only the latest ones, not a backlog without end.
SEND_LIMIT = 100
_TAIL_BYTES = 64 * 1024
_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class WitnessedCheckpoint:
    """One signed checkpoint as the witness holds it."""

    seq: int
    head_hash: str
    signed_at: dt.datetime
    key_id: str
    signature: bytes

    def as_json(self) -> dict[str, Any]:
        """The JSON object written to the file and POSTed to the HTTP witness."""
        return {
            "seq": self.seq,
            "head_hash": self.head_hash,
            "signed_at": self.signed_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode(),
        }

    def line(self) -> bytes:
        return canonical_json(self.as_json()) + b"\n"

    @classmethod
    def from_line(cls, line: bytes) -> WitnessedCheckpoint:
        """Parse one line of the file.

        Raises:
            ValueError: the line is not a witnessed checkpoint.
        """
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        seq, head_hash, key_id = data.get("seq"), data.get("head_hash"), data.get("key_id")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValueError("seq is not a positive integer")
        if not isinstance(head_hash, str) or not _HASH.fullmatch(head_hash):
            raise ValueError("head_hash is not a SHA-256 hex digest")
        if not isinstance(key_id, str) or not key_id:
            raise ValueError("key_id is missing")
        signed_at = dt.datetime.fromisoformat(str(data.get("signed_at")))
        if signed_at.tzinfo is None:
            raise ValueError("signed_at has no time zone")
        try:
            signature = base64.b64decode(str(data.get("signature")), validate=True)
        except binascii.Error as exc:
            raise ValueError("signature is not base64") from exc
        return cls(seq, head_hash, signed_at, key_id, signature)


@dataclass(frozen=True)
class WitnessReading:
    """What the witness file held when read: its checkpoints, and the lines that were not."""

    path: Path
    exists: bool
    checkpoints: tuple[WitnessedCheckpoint, ...] = ()
    bad_lines: tuple[int, ...] = ()
    error: str | None = None

    @property
    def last_seq(self) -> int:
        return max((cp.seq for cp in self.checkpoints), default=0)


def _parse(line: bytes) -> WitnessedCheckpoint | None:
    try:
        return WitnessedCheckpoint.from_line(line)
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True)
class FileWitness:
    """The append-only JSON-lines witness file (`checkpoints.jsonl` in the witness folder)."""

    path: Path

    @classmethod
    def in_folder(cls, folder: Path) -> FileWitness:
        return cls(folder / FILE_NAME)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def read(self) -> WitnessReading:
        """Every checkpoint in the file (an unreadable file is reported, not raised)."""
        checkpoints: list[WitnessedCheckpoint] = []
        bad: list[int] = []
        try:
            with self.path.open("rb") as file:
                for number, line in enumerate(file, start=1):
                    if not line.strip():
                        continue
                    parsed = _parse(line)
                    if parsed is None:
                        bad.append(number)
                    else:
                        checkpoints.append(parsed)
        except FileNotFoundError:
            return WitnessReading(self.path, exists=False)
        except OSError as exc:
            return WitnessReading(self.path, exists=True, error=f"{type(exc).__name__}: {exc}")
        return WitnessReading(self.path, True, tuple(checkpoints), tuple(bad))

    def last_seq(self) -> int:
        """The highest seq among the file's last lines (0 for no file): a cheap tail read.

        Raises:
            WitnessUnavailable: the file exists but cannot be read.
        """
        try:
            with self.path.open("rb") as file:
                size = file.seek(0, os.SEEK_END)
                file.seek(max(0, size - _TAIL_BYTES))
                tail = file.read()
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise WitnessUnavailable(f"cannot read {self.path}: {type(exc).__name__}") from exc
        found = (_parse(line) for line in tail.splitlines() if line.strip())
        return max((cp.seq for cp in found if cp is not None), default=0)

    def append(self, checkpoints: Sequence[WitnessedCheckpoint]) -> int:
        """Append, in seq order and durably, the checkpoints newer than the file's last one.

        Returns how many were appended (0 when another process was first).

        Raises:
            WitnessUnavailable: the folder or file cannot be written.
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o750)
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # released when the file is closed
                lines = self._newer_lines(checkpoints)
                if lines:
                    # a line cut short by a crash stays a bad line; the next starts afresh
                    prefix = b"" if self._ends_with_newline() else b"\n"
                    _write_all(fd, prefix + b"".join(lines))
                    os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_folder(self.folder)
        except OSError as exc:
            raise WitnessUnavailable(f"cannot append to {self.path}: {type(exc).__name__}") from exc
        return len(lines)

    def _newer_lines(self, checkpoints: Sequence[WitnessedCheckpoint]) -> list[bytes]:
        newest, lines = self.last_seq(), []
        for cp in sorted(checkpoints, key=lambda cp: cp.seq):
            if cp.seq > newest:
                lines.append(cp.line())
                newest = cp.seq
        return lines

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as file:
            if file.seek(0, os.SEEK_END) == 0:
                return True
            file.seek(-1, os.SEEK_END)
            return file.read(1) == b"\n"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class HttpWitness:
    """A witness on another machine: each checkpoint POSTed to `url` as JSON."""

    url: str
    timeout: float
    cursor_path: Path

    def send_pending(self, file_witness: FileWitness) -> int:
        """POST, oldest first, the file's checkpoints after the last one this URL accepted
        (at most the newest SEND_LIMIT). A failure is logged and ends the round: the rest
        go with the next checkpoint. Returns how many were accepted."""
        accepted = 0
        with self._cursor() as (sent, save):
            pending = [cp for cp in file_witness.read().checkpoints if cp.seq > sent]
            pending = pending[-SEND_LIMIT:]
            try:
                with httpx.Client(timeout=self.timeout) as client:
                    for cp in pending:
                        client.post(self.url, json=cp.as_json()).raise_for_status()
                        save(cp.seq)
                        accepted += 1
            except httpx.HTTPError as exc:
                status = None
                if isinstance(exc, httpx.HTTPStatusError):
                    status = exc.response.status_code
                log.warning(
                    "audit.witness_unreachable",
                    error=type(exc).__name__,
                    status=status,
                    waiting=len(pending) - accepted,
                )
        return accepted

    @contextmanager
    def _cursor(self) -> Iterator[tuple[int, Callable[[int], None]]]:
        """The seq the URL last accepted, and a function recording a newer one, under an
        exclusive lock. (A cursor lost to a crash only means checkpoints sent twice.)"""
        self.cursor_path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        fd = os.open(self.cursor_path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                state = json.loads(os.pread(fd, 4096, 0) or b"{}")
                sent = int(state["seq"]) if state.get("url") == self.url else 0
            except (ValueError, TypeError, KeyError, AttributeError):
                sent = 0

            def save(seq: int) -> None:
                os.ftruncate(fd, 0)
                os.pwrite(fd, canonical_json({"url": self.url, "seq": seq}), 0)
                os.fsync(fd)

            yield sent, save
        finally:
            os.close(fd)


@dataclass(frozen=True)
class Witnesses:
    """The witnesses the settings name: always the file, the HTTP witness if a URL is set."""

    file: FileWitness
    http: HttpWitness | None = field(default=None)

    @classmethod
    def for_settings(cls, settings: Settings) -> Witnesses:
        folder = settings.audit_witness_path
        http = None
        if settings.audit_witness_url:
            http = HttpWitness(
                settings.audit_witness_url,
                settings.audit_witness_timeout_seconds,
                folder / CURSOR_NAME,
            )
        return cls(FileWitness.in_folder(folder), http)

    def export(self, checkpoints: Sequence[WitnessedCheckpoint]) -> int:
        """Append the checkpoints to the file, then send the HTTP witness what it lacks.
        Returns how many were new to the file.

        Raises:
            WitnessUnavailable: the file cannot be written (an HTTP failure only logs).
        """
        appended = self.file.append(checkpoints)
        if self.http is not None:
            self.http.send_pending(self.file)
        return appended
