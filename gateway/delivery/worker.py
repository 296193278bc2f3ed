"""Celery wiring: one Celery task per registered outbox task, plus the relay sweep.

Messages carry only outbox event ids (one, or a batch of a batchable task's events; the
first is the Celery task id), so a message delivered twice runs once in effect
(`kernel.outbox.execute_many` checks each row). Workers
acknowledge late and take one message at a time: a worker that dies mid-task leaves the
message to be redelivered, and the outbox row to be re-dispatched.

`gateway.delivery.celery_app` builds the process's app from the settings.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from celery import Celery
from celery.signals import setup_logging, worker_process_init
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from gateway.delivery.relay import Relay, batches, enqueue_periodic
from gateway.observability.logging import configure_logging
from gateway.runtime import Runtime
from gateway.task_modules import load_task_modules
from kernel import outbox
from kernel.db import forget_inherited_connections
from kernel.errors import Recoverable
from kernel.settings import Settings

__all__ = ["CeleryDispatcher", "make_celery"]

RELAY_TASK = "refhub.relay"
SCHEDULE_TASK = "refhub.schedule"
RELAY_SWEEP_SECONDS = 5.0
_PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}


@dataclass
class CeleryDispatcher:
    """Publishes claimed events to the broker; raises Recoverable when it is down."""

    celery: Celery
    batch_size: int = 1

    @classmethod
    def for_settings(cls, settings: Settings) -> CeleryDispatcher:
        """Publishing to the settings' broker, in the settings' delivery batches."""
        return cls(make_celery(settings), settings.delivery_batch_size)

    def dispatch(self, events: list[tuple[uuid.UUID, str]]) -> None:
        try:
            for task_name, event_ids in batches(events, self.batch_size):
                self.celery.send_task(
                    task_name,
                    args=[str(event_id) for event_id in event_ids],
                    task_id=str(event_ids[0]),
                    retry=True,
                    retry_policy=_PUBLISH_RETRY,
                )
        except (KombuOperationalError, RedisError, OSError) as exc:
            raise Recoverable(f"broker unavailable: {type(exc).__name__}") from exc


@worker_process_init.connect  # type: ignore[untyped-decorator]
def _after_fork(**_kwargs: Any) -> None:
    forget_inherited_connections()


def make_celery(settings: Settings) -> Celery:
    """A Celery app for these settings with every outbox task registered."""
    load_task_modules()
    runtime = Runtime(settings)
    celery = Celery("refhub", broker=settings.broker_url or "memory://")
    celery.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 3600},
        worker_hijack_root_logger=False,
        task_serializer="json",
        accept_content=["json"],
        beat_schedule=_beat_schedule(),
        timezone="UTC",
    )

    for spec in outbox.registered_tasks().values():
        _register(celery, runtime, spec.name)

    def _configure_logging(**_kwargs: Any) -> None:
        # With a receiver on this signal Celery leaves logging alone: the worker, its
        # prefork children and beat log exactly as the rest of the hub does.
        configure_logging(settings.log_level, settings.log_format)

    setup_logging.connect(_configure_logging, weak=False)

    @celery.task(name=RELAY_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
    def relay_task() -> int:
        dispatcher = CeleryDispatcher(celery, settings.delivery_batch_size)
        relay = Relay(runtime.sessions, dispatcher, settings.relay_batch_size)
        return relay.drain()

    @celery.task(name=SCHEDULE_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
    def schedule_task(task_name: str) -> None:
        enqueue_periodic(runtime.sessions, outbox.registered_tasks()[task_name])

    return celery


def _register(celery: Celery, runtime: Runtime, name: str) -> None:
    concurrency = runtime.settings.delivery_push_concurrency

    def run(*event_ids: str) -> str:
        ids = [uuid.UUID(event_id) for event_id in event_ids]
        outcomes = outbox.execute_many(runtime.sessions, ids, concurrency=concurrency)
        return " ".join(str(outcome) for outcome in outcomes.values())

    celery.task(name=name, ignore_result=True)(run)


def _beat_schedule() -> dict[str, Any]:
    schedule: dict[str, Any] = {
        RELAY_TASK: {"task": RELAY_TASK, "schedule": RELAY_SWEEP_SECONDS},
    }
    for spec in outbox.registered_tasks().values():
        if spec.every_seconds is not None:
            schedule[f"schedule:{spec.name}"] = {
                "task": SCHEDULE_TASK,
                "schedule": spec.every_seconds,
                "args": [spec.name],
            }
    return schedule
