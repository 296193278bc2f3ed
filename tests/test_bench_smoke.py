"""The HTTP benchmarks still run (bench/submit.py, bench/search.py): each at a tiny size
(one client, a second per measurement, a few hundred services). The SQLite run runs both on
the embedded one-process shape; the PostgreSQL run on the production shape (2 uvicorn
workers, a Celery worker on the run's Redis: the process trees whose CPU it reads). Speed
is never asserted, only that the benchmark runs end to end and that what it sent was
accepted."""

from __future__ import annotations

import re

import pytest

from bench import search, submit

pytestmark = pytest.mark.filterwarnings("ignore:EdDSA is deprecated")


def _rows(out: str, what: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in out.splitlines()
        if re.match(rf"\| \d+ \| {re.escape(what)} \|", line)
    ]


def test_submit_bench_runs_and_every_referral_is_accepted(
    backend: str, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--backend", backend, "--duration", "1", "--concurrency", "1", "--warmup", "0"]
    submit.main([*argv, "--redis", redis_url])
    out = capsys.readouterr().out
    assert out.startswith("machine: ")
    (refhub,) = _rows(out, "refhub")
    (ceiling,) = _rows(out, "ceiling")
    assert int(refhub[6]) > 0, out  # 2xx answers
    assert refhub[7] == "-", out  # no other status
    assert int(ceiling[6]) > 0 and ceiling[7] == "-", out
    assert "WARNING" not in out, out  # as many referrals stored as accepted


def test_search_bench_runs_every_shape(
    backend: str, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "--backend",
        backend,
        "--n",
        "240",
        "--duration",
        "0.7",
        "--concurrency",
        "1",
        "--warmup",
        "0",
    ]
    search.main([*argv, "--redis", redis_url])
    out = capsys.readouterr().out
    assert "baseline: GET /healthz" in out
    for shape in (*search.SHAPES, "baseline: GET /healthz"):
        (row,) = _rows(out, shape)
        assert int(row[6]) > 0 and row[7] == "-", out
