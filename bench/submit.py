"""Referral submission under load: the workload's referral transaction Bundle
(`../shared/workloads/referral-bundle.json`) POSTed to `POST /fhir` of refhub as production
runs it (PostgreSQL, Redis, `refhub serve` with 2 uvicorn workers, one `refhub worker`
with one pool process, the demo data; bench/hub.py), at 1, 16, 32 and 64 concurrent
clients, against the stack's ceiling measured in the same run by the same load tool
(bench/ceiling.py: FastAPI with the same number of uvicorn workers, one ORM INSERT of a
4 KB row + one Redis LPUSH per request; bench/load.py).

Every request is a real referral from the demo agency Northside (its system client's SMART
token) to one of Harbour's services it holds a consent for (round robin over the demo
clients): the workload Bundle with `ServiceRequest.performer` set to that service and
`supportingInfo` naming that Consent, fresh `urn:uuid` full URLs and Patient identifier,
and its own `Idempotency-Key`. 2xx answers are counted (and checked against the referrals
stored), other statuses are reported. CPU ms per accepted referral of the API process tree
and of the worker's is read with psutil before and after each measurement (after the
worker has gone idle: what it delivered for the load is included); RSS is the API workers'.

Run: `python -m bench.submit [--duration 10] [--concurrency 1,16,32,64]
[--backend postgresql|sqlite] [--redis redis://127.0.0.1:6379/13]`. It creates and drops
its own databases and empties the Redis database it uses. `--backend sqlite` measures the
embedded one-process shape (one uvicorn worker, delivery inside it, no broker; the
ceiling then INSERTs into SQLite and does no LPUSH).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import ceiling
from bench.hub import Hub, Target, demo_targets, free_port, make_data_dir, start_hub
from bench.hub import throwaway_database as database
from bench.load import Load, Request, Tree, run_load, wait_idle
from bench.machine import describe

SHARED_WORKLOAD = (
    Path(__file__).resolve().parents[2] / "shared" / "workloads" / "referral-bundle.json"
)
#: The shared workload when it is beside the checkout, else the copy kept in bench/workloads.
WORKLOAD = (
    SHARED_WORKLOAD
    if SHARED_WORKLOAD.exists()
    else Path(__file__).resolve().parent / "workloads" / "referral-bundle.json"
)
URN_PREFIX = "7f1c6a52-3a55-4c1e-9a35-0c2b1f0d6a0"  # the workload's six full URLs: ...0a01-06
PATIENT_ID = "CL-000123"


def workload_path() -> Path:
    """The shared workload, or a copy next to the checkout (CI lays shared/ beside it)."""
    found = os.environ.get("REFHUB_BENCH_WORKLOAD")
    return Path(found) if found else WORKLOAD


class Submissions:
    """The n-th request: the workload Bundle addressed to a demo target, made unique."""

    def __init__(self, targets: list[Target], run: str, headers: dict[str, str]) -> None:
        self.run, self.headers = run, headers
        self.templates = [self._template(t) for t in targets]

    @staticmethod
    def _template(target: Target) -> str:
        bundle: dict[str, Any] = json.loads(workload_path().read_text())
        for entry in bundle["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] == "ServiceRequest":
                resource["performer"] = [{"reference": f"HealthcareService/{target.service_id}"}]
                resource["supportingInfo"] = [
                    {"reference": f"Consent/{target.consent_id}"},
                    *(
                        ref
                        for ref in resource.get("supportingInfo", [])
                        if not ref["reference"].endswith("0a03")  # the inline Consent
                    ),
                ]
        return json.dumps(bundle, separators=(",", ":"))

    def __call__(self, n: int) -> Request:
        body = self.templates[n % len(self.templates)]
        body = body.replace(URN_PREFIX, str(uuid.uuid4())[:35])
        body = body.replace(PATIENT_ID, f"CL-{self.run}-{n}")
        headers = {
            **self.headers,
            "Content-Type": "application/fhir+json",
            "Idempotency-Key": f"bench-{self.run}-{n}",
        }
        return "POST", "/fhir", headers, body.encode()


def ceiling_requests() -> Callable[[int], Request]:
    """The ceiling's request: the same Bundle bytes (it stores the first 4 KB)."""
    body = workload_path().read_bytes()
    request: Request = ("POST", "/submit", {"Content-Type": "application/json"}, body)
    return lambda _n: request


@dataclass
class Level:
    hub: Load
    ceiling: Load
    api_ms: float
    worker_ms: float | None
    ceiling_ms: float
    api_rss_mb: float
    stored: int  # referrals stored during the measurement


def _cpu_ms(trees: list[Tree], work: Any, count: Any) -> tuple[Any, list[float]]:
    before = [t.cpu_seconds() for t in trees]
    result = work()
    wait_idle(trees)
    after = [t.cpu_seconds() for t in trees]
    n = max(1, count(result))
    return result, [(a - b) * 1000 / n for a, b in zip(after, before, strict=True)]


def measure(
    hub: Hub, ceiling_url: str, trees: dict[str, Tree], concurrency: int, seconds: float
) -> Level:
    agency = hub.sign_in("northside")  # a fresh token for each level
    submissions = Submissions(demo_targets(hub), uuid.uuid4().hex[:8], agency.headers)
    ceiling_load, (ceiling_ms,) = _cpu_ms(
        [trees["ceiling"]],
        lambda: run_load(ceiling_url, ceiling_requests(), concurrency=concurrency, seconds=seconds),
        lambda load: load.ok,
    )
    referrals = "SELECT count(*) FROM workflow_referral"
    stored_before = hub.sql(referrals)[0][0]
    server = [trees["api"], *([trees["worker"]] if "worker" in trees else [])]
    hub_load, cpu = _cpu_ms(
        server,
        lambda: run_load(hub.base_url, submissions, concurrency=concurrency, seconds=seconds),
        lambda load: load.ok,
    )
    return Level(
        hub=hub_load,
        ceiling=ceiling_load,
        api_ms=cpu[0],
        worker_ms=cpu[1] if len(cpu) > 1 else None,
        ceiling_ms=ceiling_ms,
        api_rss_mb=trees["api"].leaves_rss_mb(),
        stored=hub.sql(referrals)[0][0] - stored_before,
    )


def print_table(levels: list[Level], backend: str, workers: int) -> None:
    print(
        f"\n{backend}: refhub `POST /fhir` (referral transaction Bundle) against the ceiling "
        f"(FastAPI, {workers} uvicorn worker(s), ORM INSERT 4 KB"
        f"{' + Redis LPUSH' if backend == 'postgresql' else ''}), same load tool\n"
    )
    print(
        "| concurrent | what | req/s (2xx) | p50 ms | p95 ms | p99 ms | 2xx | other statuses "
        "| ratio to ceiling (req/s; p99) | CPU ms/req API | CPU ms/req worker | API RSS MB "
        "| load tool CPU ms/req |"
    )
    print(
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |"
    )
    for lv in levels:
        h, c = lv.hub, lv.ceiling
        worker = f"{lv.worker_ms:.1f}" if lv.worker_ms is not None else "(in API)"
        print(
            f"| {c.concurrency} | ceiling | {c.rate:,.1f} | {c.p(50):.1f} | {c.p(95):.1f} "
            f"| {c.p(99):.1f} | {c.ok} | {c.others()} | 1 | {lv.ceiling_ms:.2f} | - | - "
            f"| {c.client_ms:.2f} |"
        )
        print(
            f"| {h.concurrency} | refhub | {h.rate:,.1f} | {h.p(50):.1f} | {h.p(95):.1f} "
            f"| {h.p(99):.1f} | {h.ok} | {h.others()} "
            f"| {h.rate / c.rate:.3f}; {h.p(99) / c.p(99):.1f}x | {lv.api_ms:.1f} | {worker} "
            f"| {lv.api_rss_mb:.0f} | {h.client_ms:.2f} |"
        )
    for lv in levels:
        if lv.stored != lv.hub.ok:
            print(f"WARNING: {lv.hub.ok} accepted at {lv.hub.concurrency} but {lv.stored} stored")
        for failure in lv.hub.failures:
            print(f"  refhub at {lv.hub.concurrency}: {failure}")


def run(args: argparse.Namespace) -> list[Level]:
    postgres = args.backend == "postgresql"
    workers = args.api_workers or (2 if postgres else 1)
    workdir = Path(tempfile.mkdtemp(prefix="refhub-bench-submit-"))
    hub_url, drop_hub = database(args.backend, workdir, "refhub_bench_submit")
    ceiling_url, drop_ceiling = database(args.backend, workdir, "refhub_bench_ceiling")
    processes: list[Any] = []
    hub: Hub | None = None
    try:
        from gateway.migrations import upgrade
        from kernel.db import engine_for

        upgrade(engine_for(hub_url))
        engine_for(hub_url).dispose()
        if postgres:
            import redis

            redis.Redis.from_url(args.redis).flushdb()
        env = {k: v for k, v in os.environ.items() if not k.startswith("REFHUB_")}
        hub = start_hub(
            env_base=env,
            database_url=hub_url,
            broker_url=args.redis if postgres else None,
            data_dir=make_data_dir(workdir / "data"),
            workers=workers,
            worker_concurrency=args.worker_concurrency,
        )
        port = free_port()
        processes.append(
            ceiling.start(
                port=port,
                workers=workers,
                database_url=ceiling_url,
                redis_url=args.redis if postgres else None,
                log=workdir / "ceiling.log",
            )
        )
        trees = {"api": Tree(hub.processes[0].pid), "ceiling": Tree(processes[0].pid)}
        if postgres:
            trees["worker"] = Tree(hub.processes[1].pid)
        base = f"http://127.0.0.1:{port}"
        if args.warmup:  # connections, caches
            measure(hub, base, trees, 4, args.warmup)
        return [measure(hub, base, trees, c, args.duration) for c in args.concurrency]
    finally:
        if hub is not None:
            hub.stop()
        for process in processes:
            process.terminate()
            process.wait(20)
        if postgres:
            import redis

            redis.Redis.from_url(args.redis).flushdb()
        drop_hub()
        drop_ceiling()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.submit", description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument(
        "--concurrency",
        type=lambda v: [int(c) for c in v.split(",")],
        default=[1, 16, 32, 64],
        help="comma-separated client counts",
    )
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13", help="the broker")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up")
    parser.add_argument(
        "--api-workers",
        type=int,
        default=0,
        help="uvicorn worker processes of refhub and of the ceiling (default 2; 1 on SQLite)",
    )
    parser.add_argument(
        "--worker-concurrency",
        type=int,
        default=1,
        help="pool processes of the delivery worker (`refhub worker --concurrency`)",
    )
    args = parser.parse_args(argv)
    print(f"machine: {describe()}; load average {_loadavg()}")
    levels = run(args)
    default = 2 if args.backend == "postgresql" else 1
    print_table(levels, args.backend, args.api_workers or default)
    print(f"\nload average at the end: {_loadavg()} (other work on the machine skews both sides)")


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
