"""What every command needs first: validated settings, logging, a runtime."""

from __future__ import annotations

from gateway.observability.logging import configure_logging
from gateway.runtime import Runtime
from gateway.task_modules import load_task_modules
from kernel.settings import get_settings

__all__ = ["cli_runtime"]


def cli_runtime(*, check_schema: bool = False) -> Runtime:
    """Settings checked, logging configured, task modules loaded.

    Raises:
        StartupError: bad settings, or (with `check_schema`) an unreachable or old database.
    """
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    load_task_modules()
    runtime = Runtime(settings)
    if check_schema:
        runtime.check_database()
    return runtime
