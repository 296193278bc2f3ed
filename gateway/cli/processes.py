"""Long-running processes: the API server, the Celery worker and the beat scheduler."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from gateway.cli.context import cli_runtime
from gateway.delivery.worker import make_celery
from gateway.runtime import Runtime
from kernel.errors import StartupError

__all__ = ["beat", "serve", "worker"]


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
) -> None:
    """Serve the hub's HTTP API (Ctrl-C stops it cleanly)."""
    runtime = cli_runtime()
    runtime.check_startup()
    if workers > 1 and runtime.settings.is_sqlite:
        raise StartupError(
            "several workers need PostgreSQL (REFHUB_DATABASE_URL); the embedded SQLite "
            "database serves one worker"
        )
    typer.echo(f"refhub serving on http://{host}:{port} (API docs at /docs)")
    uvicorn.run(
        "gateway.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        proxy_headers=True,
        server_header=False,
    )


def _broker_runtime_checked() -> Runtime:
    runtime = cli_runtime()
    if runtime.settings.embedded_delivery:
        raise StartupError(
            "no broker configured: set REFHUB_BROKER_URL=redis://host:6379/0 to run Celery "
            "processes (the embedded default runs delivery inside `refhub serve`)"
        )
    runtime.check_startup()
    return runtime


def worker(
    concurrency: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 2,
    pool: Annotated[str, typer.Option(help="Celery pool: prefork, threads, solo.")] = "prefork",
) -> None:
    """Run a Celery worker that executes outbox work from the broker."""
    runtime = _broker_runtime_checked()
    make_celery(runtime.settings).worker_main(
        ["worker", "--loglevel=INFO", f"--concurrency={concurrency}", f"--pool={pool}"]
    )


def beat() -> None:
    """Run the Celery beat scheduler (periodic sweeps, audit checkpoints)."""
    runtime = _broker_runtime_checked()
    schedule_file = runtime.settings.data_dir / "celerybeat-schedule"
    schedule_file.parent.mkdir(parents=True, exist_ok=True)
    make_celery(runtime.settings).start(["beat", "--loglevel=INFO", f"--schedule={schedule_file}"])
