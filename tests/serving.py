"""The real app served by uvicorn on a free port in a background thread, for tests whose
client is another library (fhirpy) or a browser."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from gateway.app import create_app
from gateway.runtime import Runtime
from tests.fhir_schema import FhirAnswerCheck


@contextmanager
def serve(runtime: Runtime) -> Iterator[str]:
    """Serve the hub (no relay) for `runtime`; yields its base URL, stops it afterwards.

    The served hub's public URL is that base URL, as an operator would configure it: the
    hub's links and token audience are built from it, never from the request's Host."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    served = Runtime(runtime.settings.model_copy(update={"public_base_url": base_url}))
    app = create_app(served, run_relay=False)
    app.add_middleware(FhirAnswerCheck)  # every FHIR answer meets the R4 schema
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(10)
