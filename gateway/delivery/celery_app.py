"""The Celery application of this process: `celery -A gateway.delivery.celery_app worker`.

`refhub worker` and `refhub beat` load it; the settings decide the broker.
"""

from __future__ import annotations

from gateway.delivery.worker import make_celery
from kernel.settings import get_settings

app = make_celery(get_settings())
