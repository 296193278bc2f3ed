"""Directory benchmark: import N services (HSDS JSON, through the real importer), then the
latency of the common search shapes, single client, against a primary-key lookup measured
in the same run on the same database.

Run: `.venv/bin/python -m bench.directory --n 100000 --backend sqlite|postgresql|both`;
`--reuse NAME` keeps the database (PostgreSQL database NAME, or SQLite file NAME.db in the
working directory) between runs: imported on first use, afterwards only migrated to the
head revision and searched, to iterate on queries and indexes without the import.
The services follow `../shared/workloads/make_services.py` (same seed, categories, types,
languages, cities, name words), as HSDS documents with a location near one of ten cities.
Searches go through `directory.search.search` (SQL filters, ordering, paging, then the
page's details), the public view, 20 per page, as `GET /directory/services` runs them.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bench.machine import describe
from directory import importer
from directory.access import Viewer
from directory.models import Service
from directory.search import Query, search
from directory.vocabulary import CATEGORY_SYSTEM, TYPE_SYSTEM
from gateway.migrations import upgrade
from kernel.db import engine_for

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NS = uuid.UUID("6d1f0c4e-7f51-4b8e-9a59-2f6d6b1e0b01")
# The workload's vocabulary (../shared/workloads/make_services.py).
CATEGORIES = [
    "housing",
    "food",
    "mental-health",
    "legal",
    "employment",
    "education",
    "health",
    "transport",
    "interpretation",
    "childcare",
    "financial",
    "case-management",
]
TYPES_PER_CATEGORY = 10
LANGS = ["en", "es", "ar", "prs", "ps", "uk", "ru", "fr", "so", "ti", "sw", "fa"]
CITIES = {  # the workload's ten cities, placed 40-200 km apart
    "Springfield": (39.80, -89.64),
    "Riverton": (40.60, -88.90),
    "Lakeside": (41.10, -87.90),
    "Hillview": (38.90, -90.30),
    "Fairmont": (39.30, -88.20),
    "Oakdale": (40.10, -91.00),
    "Brookfield": (41.80, -88.60),
    "Maplewood": (38.60, -89.10),
    "Cedarville": (39.90, -87.60),
    "Ashford": (40.90, -90.10),
}
WORDS = [
    "Alpha",
    "Beacon",
    "Bridge",
    "Caring",
    "Compass",
    "Crossroads",
    "Harbor",
    "Haven",
    "Horizon",
    "Journey",
    "Keystone",
    "Landmark",
    "Lighthouse",
    "Meridian",
    "Nexus",
    "Oasis",
    "Pathway",
    "Pioneer",
    "Refuge",
    "Summit",
    "Sunrise",
    "Thrive",
    "Unity",
    "Venture",
    "Village",
    "Welcome",
    "Wellspring",
    "Willow",
    "Zenith",
    "Anchor",
]
SERVICES_PER_ORG = 50


def _term(system: str, code: str) -> dict[str, Any]:
    taxonomy_id = uuid.uuid5(uuid.NAMESPACE_URL, system)
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{system}#{code}")),
        "code": code,
        "name": code.replace("-", " ").capitalize(),
        "description": code,
        "taxonomy_id": str(taxonomy_id),
        "term_uri": f"{system}#{code}",
        "taxonomy_detail": {
            "id": str(taxonomy_id),
            "name": system,
            "description": system,
            "uri": system,
        },
    }


def make_services(n: int) -> list[dict[str, Any]]:
    """N HSDS service documents, deterministic for a given N."""
    rng = random.Random(20261123)
    docs = []
    for i in range(n):
        cat = CATEGORIES[rng.randrange(len(CATEGORIES))]
        typ = f"{cat}-{rng.randrange(TYPES_PER_CATEGORY)}"
        word = WORDS[rng.randrange(len(WORDS))]
        city = list(CITIES)[rng.randrange(len(CITIES))]
        langs = rng.sample(LANGS, k=rng.randint(1, 3))
        active = rng.random() > 0.1
        lat, lon = CITIES[city]
        sid, org = uuid.uuid5(NS, f"service/{i}"), uuid.uuid5(NS, f"org/{i // SERVICES_PER_ORG}")
        loc = uuid.uuid5(NS, f"location/{i}")
        docs.append(
            {
                "id": str(sid),
                "name": f"{word} {city} {cat.replace('-', ' ').title()} Service {i}",
                "description": "Walk-in hours Tue/Thu; appointments by phone.",
                "status": "active" if active else "inactive",
                "organization": {
                    "id": str(org),
                    "name": f"Provider {i // SERVICES_PER_ORG}",
                    "description": "Benchmark provider",
                },
                "phones": [
                    {"id": str(uuid.uuid5(sid, "phone")), "number": f"+1-555-{i % 10000:04d}"}
                ],
                "languages": [{"id": str(uuid.uuid5(sid, c)), "code": c} for c in langs],
                "service_at_locations": [
                    {
                        "id": str(uuid.uuid5(loc, "sal")),
                        "location_id": str(loc),
                        "location": {
                            "id": str(loc),
                            "location_type": "physical",
                            "name": f"{city} office {i}",
                            "latitude": lat + rng.uniform(-0.15, 0.15),
                            "longitude": lon + rng.uniform(-0.2, 0.2),
                        },
                    }
                ],
                "attributes": [
                    {"id": str(uuid.uuid5(sid, system)), "taxonomy_term": _term(system, code)}
                    for system, code in ((CATEGORY_SYSTEM, cat), (TYPE_SYSTEM, typ))
                ],
            }
        )
    return docs


def _database(backend: str, workdir: Path, reuse: str | None) -> tuple[str, Callable[[], None]]:
    """The database URL and how to drop it (a kept database, `reuse`, is never dropped)."""
    if backend == "sqlite":
        path = Path(f"{reuse}.db").resolve() if reuse else workdir / "directory-bench.db"
        return f"sqlite:///{path}", lambda: None
    name = reuse or f"refhub_bench_dir_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if found.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    if reuse:
        admin.dispose()
        return url, lambda: None

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


def _shapes(rng: random.Random) -> dict[str, Callable[[], Query]]:
    def near() -> Query:
        lat, lon = CITIES[rng.choice(list(CITIES))]
        return Query(
            categories=[rng.choice(CATEGORIES)],
            languages=[rng.choice(LANGS)],
            latitude=lat,
            longitude=lon,
            radius_km=25.0,
            active=True,
        )

    return {
        "category + language + radius 25 km": near,
        "category": lambda: Query(categories=[rng.choice(CATEGORIES)], active=True),
        "free text (q=word)": lambda: Query(text=rng.choice(WORDS).lower(), active=True),
        "name prefix": lambda: Query(name=rng.choice(WORDS), active=True),
    }


def _raw_load(sessions: sessionmaker[Session], docs: list[dict[str, Any]]) -> float:
    """The import's baseline: seconds to store the same documents as JSON text, one row
    each, in a table without indexes or constraints (COPY on PostgreSQL, one executemany
    INSERT on SQLite), the raw write speed of this machine and database."""
    with sessions() as session:
        session.execute(text("CREATE TEMPORARY TABLE bench_raw (doc TEXT)"))
        driver = session.connection().connection.driver_connection
        assert driver is not None
        started = time.perf_counter()
        if session.get_bind().dialect.name == "postgresql":
            with driver.cursor() as cursor, cursor.copy("COPY bench_raw (doc) FROM STDIN") as copy:
                for doc in docs:
                    copy.write_row((json.dumps(doc),))
        else:
            driver.executemany(
                "INSERT INTO bench_raw (doc) VALUES (?)", ((json.dumps(d),) for d in docs)
            )
        session.commit()
        return time.perf_counter() - started


def _import(sessions: sessionmaker[Session], backend: str, n: int) -> None:
    docs = make_services(n)
    raw = _raw_load(sessions, docs)
    started = time.perf_counter()
    with sessions() as session:
        report = importer.import_documents(session, "system:bench", documents=docs, source="bench")
        session.commit()
    seconds = time.perf_counter() - started
    if report.created != n or report.errors:
        raise SystemExit(f"import failed: {report.errors[:3]}")
    print(
        f"\n## {backend}: import {n} services: {seconds:.1f} s ({n / seconds:,.0f}/s); "
        f"baseline, the same documents stored raw as JSON text: {raw:.1f} s; "
        f"ratio {seconds / raw:.1f}"
    )


def run(backend: str, n: int, queries: int, reuse: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = _database(backend, Path(tmp), reuse)
        engine = engine_for(url)
        try:
            upgrade(engine)
            sessions = sessionmaker(engine, expire_on_commit=False)
            with sessions() as session:
                stored = session.scalar(select(func.count()).select_from(Service)) or 0
            if stored == 0:
                _import(sessions, backend, n)
            elif stored == n:
                print(f"\n## {backend}: reusing {reuse} ({n} services, import not timed)")
            else:
                raise SystemExit(f"{reuse} holds {stored} services, not {n}")
            # The steady state searches run in: statistics, and on PostgreSQL the visibility
            # map that index-only scans need (autovacuum does both within minutes of an
            # import; docs/operations.md).
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE" if backend == "postgresql" else "ANALYZE"))
            rng = random.Random(11)
            ids = [uuid.uuid5(NS, f"service/{rng.randrange(n)}") for _ in range(queries)]
            viewer = Viewer.anonymous()

            def baseline() -> Callable[[Session], Any]:
                sid = ids[rng.randrange(len(ids))]
                return lambda s: s.scalars(select(Service.name).where(Service.id == sid)).one()

            shapes = {"baseline: primary-key lookup": baseline}
            for label, make in _shapes(rng).items():
                shapes[label] = lambda make=make: lambda s, q=make(): search(s, viewer, q)
            results: dict[str, list[float]] = {}
            hits: dict[str, float] = {}
            for label, make_call in shapes.items():
                samples, found = [], []
                for i in range(queries + 10):
                    call = make_call()
                    with sessions() as session:
                        t0 = time.perf_counter()
                        out = call(session)
                        elapsed = (time.perf_counter() - t0) * 1000
                    if i >= 10:  # the first ten warm the caches
                        samples.append(elapsed)
                        found.append(getattr(out, "total", 1))
                results[label], hits[label] = samples, statistics.mean(found)
            base = _pct(results["baseline: primary-key lookup"], 50)
            print(
                f"{queries} queries per shape, single client, 20 per page; ratio = p50 / "
                f"baseline p50 ({base:.2f} ms)\n"
            )
            print("| shape | mean matches | p50 ms | p95 ms | p99 ms | p50 ratio |")
            print("| --- | ---: | ---: | ---: | ---: | ---: |")
            for label, samples in results.items():
                p50, p95, p99 = (_pct(samples, p) for p in (50, 95, 99))
                print(
                    f"| {label} | {hits[label]:,.0f} | {p50:.2f} | {p95:.2f} | {p99:.2f} "
                    f"| {p50 / base:.1f} |"
                )
        finally:
            engine.dispose()
            drop()


def machine() -> str:
    pg = ""
    try:
        with create_engine(PG_ADMIN).connect() as conn:
            pg = str(conn.execute(text("SHOW server_version")).scalar())
    except Exception:  # noqa: BLE001 - the machine line only says what it could find
        pg = "unreachable"
    return f"{describe()}; SQLite {sqlite3.sqlite_version}; PostgreSQL {pg}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--queries", type=int, default=200, help="measured queries per shape")
    parser.add_argument(
        "--reuse",
        metavar="NAME",
        help="keep the database NAME (SQLite: NAME.db) and reuse it: import only when empty",
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        run(backend, args.n, args.queries, args.reuse)


if __name__ == "__main__":
    main()
