"""FHIR directory search under load: `GET /fhir/HealthcareService` with the query shapes of
`../shared/workloads/make_services.py` (category, category + type + active, category sorted
by name, name prefix; `_count=20`) over N services (10,000; `--n 10000,100000` for more),
against refhub as production runs it (bench/hub.py: PostgreSQL, Redis, 2 uvicorn workers,
one Celery worker, the demo data), at 1 and 16 concurrent clients (bench/load.py).

The services are the workload's (bench/directory.py `make_services`: same seed, so the
same categories, types, names and active flags per index), imported through the real
importer before the hub starts. The query paths are the workload's (same seed, 48 per
shape, each client cycling through them), with the workload's code systems
(`https://refhub.example.org/CodeSystem/...`) replaced by refhub's own: refhub refuses a
token of an unknown system (400). Searches are made as the demo agency Northside's system
client (its SMART token).

Baseline in the same run, same server, same load tool and concurrency: `GET /healthz`
(the served app's routing, middleware and JSON answer without a database), so the ratio
says what a search costs over a request that does nothing.

Run: `python -m bench.search [--n 10000] [--duration 10] [--concurrency 1,16]
[--backend postgresql|sqlite] [--redis redis://127.0.0.1:6379/13]`. It creates and drops its
own databases and empties the Redis database it uses.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import text

from bench.directory import CATEGORIES, TYPES_PER_CATEGORY, WORDS, make_services
from bench.hub import TIMEOUT, Hub, make_data_dir, start_hub
from bench.hub import throwaway_database as database
from bench.load import Load, Request, run_load
from bench.machine import describe
from directory.vocabulary import CATEGORY_SYSTEM, TYPE_SYSTEM

SHAPES = ("category", "category_type", "category_sort", "name_prefix")
COUNT = 20


def query_paths() -> dict[str, list[str]]:
    """The workload's search paths per shape (make_services.py, seed 7), refhub's systems."""
    q = random.Random(7)
    shapes: dict[str, list[str]] = {shape: [] for shape in SHAPES}
    for _ in range(48):
        c = CATEGORIES[q.randrange(len(CATEGORIES))]
        t = f"{c}-{q.randrange(TYPES_PER_CATEGORY)}"
        w = WORDS[q.randrange(len(WORDS))]
        cat = f"service-category={CATEGORY_SYSTEM}%7C{c}"
        shapes["category"].append(f"/fhir/HealthcareService?{cat}&_count={COUNT}")
        shapes["category_type"].append(
            f"/fhir/HealthcareService?{cat}&service-type={TYPE_SYSTEM}%7C{t}"
            f"&active=true&_count={COUNT}"
        )
        shapes["category_sort"].append(f"/fhir/HealthcareService?{cat}&_sort=name&_count={COUNT}")
        shapes["name_prefix"].append(f"/fhir/HealthcareService?name={w}&_count={COUNT}")
    return shapes


def _import(url: str, n: int) -> float:
    """N workload services through the real importer; the seconds it took."""
    from sqlalchemy.orm import Session

    from directory import importer
    from kernel.db import engine_for

    engine = engine_for(url)
    started = time.perf_counter()
    with Session(engine) as session:
        report = importer.import_documents(
            session, "system:bench", documents=make_services(n), source="bench"
        )
        session.commit()
    if report.created != n or report.errors:
        raise SystemExit(f"import failed: {report.errors[:3]}")
    seconds = time.perf_counter() - started
    postgres = url.startswith("postgresql")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
    engine.dispose()
    return seconds


def cycling(paths: list[str], headers: dict[str, str]) -> Callable[[int], Request]:
    return lambda n: ("GET", paths[n % len(paths)], headers, None)


def _totals(hub: Hub, paths: list[str], headers: dict[str, str]) -> float:
    """The mean `Bundle.total` of a shape's searches (and that each answers 200)."""
    totals = []
    for path in paths[:8]:
        answer = httpx.get(f"{hub.base_url}{path}", headers=headers, timeout=TIMEOUT)
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text[:300]}"
        totals.append(answer.json().get("total", 0))
    return sum(totals) / len(totals)


def run_size(args: argparse.Namespace, n: int) -> None:
    postgres = args.backend == "postgresql"
    workers = 2 if postgres else 1
    workdir = Path(tempfile.mkdtemp(prefix="refhub-bench-search-"))
    url, drop = database(args.backend, workdir, "refhub_bench_search")
    hub: Hub | None = None
    try:
        from gateway.migrations import upgrade
        from kernel.db import engine_for

        upgrade(engine_for(url))
        imported = _import(url, n)
        if postgres:
            import redis

            redis.Redis.from_url(args.redis).flushdb()
        env = {k: v for k, v in os.environ.items() if not k.startswith("REFHUB_")}
        hub = start_hub(
            env_base=env,
            database_url=url,
            broker_url=args.redis if postgres else None,
            data_dir=make_data_dir(workdir / "data"),
            workers=workers,
        )
        paths = query_paths()
        headers = hub.sign_in("northside").headers
        matches = {shape: _totals(hub, paths[shape], headers) for shape in SHAPES}
        if args.warmup:  # connections, caches
            run_load(
                hub.base_url,
                cycling(paths["category"], headers),
                concurrency=4,
                seconds=args.warmup,
            )
        rows: list[tuple[str, Load, Load]] = []
        for concurrency in args.concurrency:
            headers = hub.sign_in("northside").headers  # a fresh token per level
            base = run_load(
                hub.base_url,
                cycling(["/healthz"], {}),
                concurrency=concurrency,
                seconds=args.duration,
            )
            rows.append(("baseline: GET /healthz", base, base))
            for shape in SHAPES:
                load = run_load(
                    hub.base_url,
                    cycling(paths[shape], headers),
                    concurrency=concurrency,
                    seconds=args.duration,
                )
                rows.append((shape, load, base))
        print(
            f"\n{args.backend}: {n:,} services (import {imported:.1f} s), refhub with "
            f"{workers} uvicorn worker(s); {args.duration:g} s per row; baseline: GET /healthz "
            "of the same server, same concurrency, same load tool"
        )
        print(
            "mean Bundle.total per shape: " + ", ".join(f"{s} {m:,.0f}" for s, m in matches.items())
        )
        print(
            "\n| concurrent | shape | req/s | p50 ms | p95 ms | p99 ms | 2xx | other statuses "
            "| req/s ratio to baseline | p50 / baseline p50 | load tool CPU ms/req |"
        )
        print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
        for shape, load, base in rows:
            print(
                f"| {load.concurrency} | {shape} | {load.rate:,.1f} | {load.p(50):.1f} "
                f"| {load.p(95):.1f} | {load.p(99):.1f} | {load.ok} | {load.others()} "
                f"| {load.rate / base.rate:.3f} | {load.p(50) / base.p(50):.1f} "
                f"| {load.client_ms:.2f} |"
            )
            for failure in load.failures if load is not base else []:
                print(f"  {shape} at {load.concurrency}: {failure}")
    finally:
        if hub is not None:
            hub.stop()
        if postgres:
            import redis

            redis.Redis.from_url(args.redis).flushdb()
        from kernel.db import engine_for

        engine_for(url).dispose()
        drop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    parser.add_argument(
        "--n",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[10_000],
        help="directory sizes, comma-separated (e.g. 10000,100000)",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument(
        "--concurrency",
        type=lambda v: [int(c) for c in v.split(",")],
        default=[1, 16],
        help="comma-separated client counts",
    )
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13", help="the broker")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up")
    args = parser.parse_args(argv)
    print(f"machine: {describe()}; load average {_loadavg()}")
    for n in args.n:
        run_size(args, n)
    print(f"\nload average at the end: {_loadavg()} (other work on the machine skews both sides)")


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
