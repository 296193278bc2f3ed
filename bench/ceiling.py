"""The stack's ceiling for a submission: a tiny FastAPI app served like refhub (uvicorn, the
same number of worker processes) whose `POST /submit` does what any accepted submission
must at least do: one SQLAlchemy ORM INSERT of a 4 KB row (one transaction, through
`kernel.db.engine_for`, so with refhub's pool and connection settings) and, when there is a
broker, one Redis LPUSH. `GET /ping` answers without any work.

Started by bench/submit.py as `python -m bench.ceiling --port P --workers N --database URL
[--redis URL]`; the table is created by the caller (`create_table`) before the workers run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import BigInteger, Integer, Text, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

__all__ = ["create_app", "create_table", "start"]

ROW_BYTES = 4096
REDIS_KEY = "bench:ceiling"


class _Base(DeclarativeBase):
    pass


class CeilingRow(_Base):
    __tablename__ = "bench_ceiling"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    body: Mapped[str] = mapped_column(Text)


def create_table(url: str) -> None:
    engine = create_engine(url)
    try:
        _Base.metadata.create_all(engine)
    finally:
        engine.dispose()


def create_app() -> FastAPI:
    from kernel.db import engine_for

    sessions = sessionmaker(engine_for(os.environ["BENCH_CEILING_DATABASE"]))
    redis_url = os.environ.get("BENCH_CEILING_REDIS")
    broker = None
    if redis_url:
        import redis

        broker = redis.Redis.from_url(redis_url)
    app = FastAPI()

    def store(body: bytes) -> int:
        with sessions.begin() as session:
            row = CeilingRow(body=body[:ROW_BYTES].decode("utf-8", "replace").ljust(ROW_BYTES))
            session.add(row)
            session.flush()
            row_id = row.id
        if broker is not None:
            broker.lpush(REDIS_KEY, str(row_id))
        return row_id

    @app.post("/submit", status_code=201)
    async def submit(request: Request) -> JSONResponse:
        row_id = await run_in_threadpool(store, await request.body())
        return JSONResponse({"id": row_id}, status_code=201)

    @app.get("/ping")
    def ping() -> dict[str, str]:
        return {"status": "ok"}

    return app


def start(
    *, port: int, workers: int, database_url: str, redis_url: str | None, log: Path
) -> subprocess.Popen[bytes]:
    """The ceiling app in its own process tree; returns once `GET /ping` answers."""
    create_table(database_url)
    command = [sys.executable, "-m", "bench.ceiling", "--port", str(port)]
    command += ["--workers", str(workers), "--database", database_url]
    if redis_url:
        command += ["--redis", redis_url]
    out = log.open("ab")
    process = subprocess.Popen(
        command, stdout=out, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[1]
    )
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"the ceiling app stopped; its log: {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=2).status_code == 200:
                time.sleep(1.0 if workers > 1 else 0)  # the other workers start alongside
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"the ceiling app did not start; its log: {log}")


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.ceiling", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", required=True)
    parser.add_argument("--redis")
    args = parser.parse_args()
    os.environ["BENCH_CEILING_DATABASE"] = args.database
    if args.redis:
        os.environ["BENCH_CEILING_REDIS"] = args.redis
    uvicorn.run(
        "bench.ceiling:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
