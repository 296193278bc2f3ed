"""`python -m tests.gateway.delivery.worker_main`: the real `refhub worker`, with the test
builders registered (the workflow's own builders are not what these tests exercise)."""

from __future__ import annotations

import sys

from gateway.cli.main import main
from gateway.task_modules import load_task_modules
from tests.gateway.delivery import builders

if __name__ == "__main__":
    load_task_modules()
    builders.register()
    sys.argv = ["refhub", "worker", *sys.argv[1:]]
    main()
