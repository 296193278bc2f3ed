"""The load tool of the HTTP benchmarks (bench/submit.py, bench/search.py): N concurrent
clients (asyncio tasks sharing one httpx.AsyncClient with N keep-alive connections), each
sending its next request as soon as the last one answered, for a fixed duration. The same
tool loads refhub and the baselines it is compared with, so their ratio does not depend on
the tool's own cost.

Also: percentiles, and the CPU time and resident memory of a server's process tree
(psutil), read before and after a measurement.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import psutil

__all__ = ["Load", "Request", "Tree", "percentile", "run_load", "wait_idle"]

#: What one client sends next: (method, path, headers, body or None).
Request = tuple[str, str, dict[str, str], bytes | None]


@dataclass
class Load:
    """What one measurement saw."""

    concurrency: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)  # of 2xx answers
    statuses: Counter[str] = field(default_factory=Counter)  # "201", "422", "timeout"...
    failures: list[str] = field(default_factory=list)  # the first few non-2xx bodies
    client_cpu_s: float = 0.0  # CPU time of this process (the load tool) during the run

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if s.startswith("2"))

    @property
    def rate(self) -> float:
        """2xx answers per second."""
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def client_ms(self) -> float:
        """The load tool's own CPU ms per answer (near 1000 / rate: the tool is the limit)."""
        answered = sum(self.statuses.values())
        return self.client_cpu_s * 1000 / answered if answered else math.nan

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    def others(self) -> str:
        """The non-2xx statuses and their counts, or "-"."""
        rest = {s: n for s, n in sorted(self.statuses.items()) if not s.startswith("2")}
        return ", ".join(f"{s}: {n}" for s, n in rest.items()) or "-"


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (the same definition as bench/directory.py)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def run_load(
    base_url: str,
    make_request: Callable[[int], Request],
    *,
    concurrency: int,
    seconds: float,
    timeout: float = 30.0,
) -> Load:
    """`concurrency` clients in a closed loop for `seconds`; `make_request(n)` gives the
    n-th request of the run (n counts across all clients, from 0)."""
    me = psutil.Process()
    before = me.cpu_times()
    load = asyncio.run(_run(base_url, make_request, concurrency, seconds, timeout))
    after = me.cpu_times()
    load.client_cpu_s = after.user + after.system - before.user - before.system
    return load


async def _run(
    base_url: str,
    make_request: Callable[[int], Request],
    concurrency: int,
    seconds: float,
    timeout: float,
) -> Load:
    load = Load(concurrency, seconds)
    counter = iter(range(10**12))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=httpx.Timeout(timeout, connect=5.0)
    ) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def one_client() -> None:
            while time.perf_counter() < deadline:
                method, path, headers, body = make_request(next(counter))
                t0 = time.perf_counter()
                try:
                    answer = await client.request(method, path, headers=headers, content=body)
                except httpx.TimeoutException:
                    load.statuses["timeout"] += 1
                    continue
                except httpx.TransportError as exc:
                    load.statuses[type(exc).__name__] += 1
                    continue
                elapsed = (time.perf_counter() - t0) * 1000
                status = str(answer.status_code)
                load.statuses[status] += 1
                if answer.is_success:
                    load.latencies_ms.append(elapsed)
                elif len(load.failures) < 3:
                    load.failures.append(f"{status}: {answer.text[:300]}")

        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        load.seconds = time.perf_counter() - started  # the last answers come after deadline
    return load


class Tree:
    """A process and its descendants (a uvicorn supervisor and its workers, a Celery
    worker and its pool): their CPU time and resident memory."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)

    def processes(self) -> list[psutil.Process]:
        return [self.root, *self.root.children(recursive=True)]

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self.processes():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def leaves_rss_mb(self) -> float:
        """Resident memory of the processes that serve (those without children: the
        uvicorn workers, the Celery pool process; not the supervisor nor the resource
        tracker, which is counted only where it is the only child)."""
        serving = [p for p in self.root.children() if "resource_tracker" not in _cmd(p)]
        return sum(_rss(p) for p in serving or [self.root]) / 2**20

    def total_rss_mb(self) -> float:
        return sum(_rss(p) for p in self.processes()) / 2**20


def _cmd(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def _rss(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except psutil.Error:
        return 0


def wait_idle(trees: list[Tree], *, quiet_ms: float = 20.0, limit: float = 120.0) -> float:
    """Wait until the trees together use less than `quiet_ms` of CPU in half a second (the
    worker has delivered what the load queued); the seconds waited."""
    started = time.monotonic()
    last = sum(t.cpu_seconds() for t in trees)
    while time.monotonic() - started < limit:
        time.sleep(0.5)
        now = sum(t.cpu_seconds() for t in trees)
        if (now - last) * 1000 < quiet_ms:
            break
        last = now
    return time.monotonic() - started
