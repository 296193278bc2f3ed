"""Prometheus metrics: request counts and latency per route template, outbox backlog."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["HubMetrics"]


class _OutboxCollector(Collector):
    def __init__(self, count_by_state: Callable[[], dict[str, int]]) -> None:
        self._count = count_by_state

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "refhub_outbox_events", "Outbox events by state", labels=["state"]
        )
        for state, count in sorted(self._count().items()):
            family.add_metric([state], count)
        yield family


class HubMetrics:
    """One registry per app, so tests and several apps in a process do not collide."""

    def __init__(self, count_outbox: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "refhub_http_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "refhub_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.registry.register(_OutboxCollector(count_outbox))
