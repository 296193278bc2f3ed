"""The composition root's list of modules that register outbox tasks.

Importing a module registers its `@kernel.outbox.task` handlers; every process (API,
worker, beat, CLI) loads the same list so they agree on what can run.
"""

from __future__ import annotations

import importlib

__all__ = ["TASK_MODULES", "load_task_modules"]

TASK_MODULES = (
    "gateway.audit.tasks",
    "gateway.auth.clients.tasks",
    "consent.tasks",
    "directory.tasks",
    "gateway.delivery.tasks",
    "gateway.delivery.subscription_tasks",
    "gateway.workflow.tasks",
    "gateway.workflow.monitor",
    "gateway.workflow.casework.qa_tasks",
)


def load_task_modules() -> None:
    for name in TASK_MODULES:
        importlib.import_module(name)
