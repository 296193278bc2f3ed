"""Delivery fixtures: fast retry settings, the test builders, a local receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.delivery import outgoing
from gateway.runtime import Runtime
from kernel.settings import Settings, reset_settings_cache
from tests.gateway.delivery import builders
from tests.gateway.delivery.receiver import Receiver, start_receiver, stop_receiver

#: Short timeouts and backoff so the fault suite stays fast; http for the local receiver.
FAST_DELIVERY = {
    "REFHUB_DELIVERY_ALLOW_HTTP": "true",
    "REFHUB_DELIVERY_TIMEOUT_SECONDS": "1",
    "REFHUB_DELIVERY_CONNECT_TIMEOUT_SECONDS": "1",
    "REFHUB_DELIVERY_BACKOFF_BASE_SECONDS": "0.1",
    "REFHUB_DELIVERY_BACKOFF_CAP_SECONDS": "2",
    "REFHUB_DELIVERY_MAX_ATTEMPTS": "4",
}


@pytest.fixture
def fast_delivery(settings: Settings) -> Iterator[Settings]:
    """The run's settings with FAST_DELIVERY, as `get_settings()` (the task) sees them."""
    mp = pytest.MonkeyPatch()
    for name, value in FAST_DELIVERY.items():
        mp.setenv(name, value)
    reset_settings_cache()
    yield Settings()
    mp.undo()
    reset_settings_cache()


@pytest.fixture
def test_builders() -> Iterator[None]:
    saved = dict(outgoing._BUILDERS)
    builders.register()
    yield
    outgoing._BUILDERS.clear()
    outgoing._BUILDERS.update(saved)


@pytest.fixture
def delivery(committed: Runtime, fast_delivery: Settings, test_builders: None) -> Runtime:
    """A committed runtime whose tasks see fast delivery settings and the test builders."""
    return Runtime(fast_delivery)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = start_receiver()
    yield server
    stop_receiver(server)
