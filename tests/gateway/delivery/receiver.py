"""A real receiver for delivery tests: a threaded HTTP server on a free local port.

It records every request, answers according to a `fault` per message (the first
`fault_times` requests of each message id get the fault, later ones 200), and keeps the
ids it accepted with 2xx. Faults: `500`, `429` (Retry-After), `400`, `timeout` (sleeps past
the hub's timeout), `slow` (answers late but in time), `close` (drops the connection),
`garbage` (200 with a random non-JSON body).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests import fhir_schema


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int | None


@dataclass
class Behaviour:
    fault: str | None = None
    fault_times: int = 1
    retry_after: str = "1"
    sleep_seconds: float = 0.0


@dataclass
class Receiver:
    behaviour: Behaviour = field(default_factory=Behaviour)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: dict[str, int] = field(default_factory=dict)
    in_flight: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def accepted_ids(self) -> set[str]:
        with self.lock:
            return {
                r.headers.get("x-refhub-message-id", "")
                for r in self.requests
                if r.status is not None and 200 <= r.status < 300
            }

    def of(self, message_id: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.headers.get("x-refhub-message-id") == message_id]

    def _decide(self, message_id: str) -> str | None:
        with self.lock:
            count = self.seen.get(message_id, 0)
            self.seen[message_id] = count + 1
        behaviour = self.behaviour
        if behaviour.fault is not None and count < behaviour.fault_times:
            return behaviour.fault
        return None


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls between header and body

        def log_message(self, *_args: Any) -> None:
            pass

        def _record(self, body: bytes, status: int | None) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                receiver.requests.append(
                    Received(self.command, self.path, headers, body, time.monotonic(), status)
                )

        def _answer(self, status: int, body: bytes = b"{}", **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.headers.get("Content-Type", "").startswith("application/fhir+json"):
                fhir_schema.check_sent(f"{self.command} {self.path} (sent by the hub)", body)
            message_id = self.headers.get("X-Refhub-Message-Id", "")
            fault = receiver._decide(message_id)
            behaviour = receiver.behaviour
            if fault == "timeout":
                receiver.in_flight.set()
                self._record(body, None)
                time.sleep(behaviour.sleep_seconds or 3.0)
                self.close_connection = True
                return
            if fault == "close":
                self._record(body, None)
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault == "slow":
                time.sleep(behaviour.sleep_seconds or 0.3)
            if fault in ("500", "400"):
                self._record(body, int(fault))
                self._answer(int(fault), b'{"error": "no"}')
                return
            if fault == "429":
                self._record(body, 429)
                self._answer(429, b"", Retry_After=behaviour.retry_after)
                return
            self._record(body, 200)
            if fault == "garbage":
                self._answer(200, os.urandom(64), Content_Type="text/html")
            else:
                self._answer(200, b'{"resourceType": "OperationOutcome"}')

        def do_POST(self) -> None:
            self._handle()

        def do_PUT(self) -> None:
            self._handle()

    return Handler


def start_receiver(behaviour: Behaviour | None = None) -> Receiver:
    receiver = Receiver(behaviour or Behaviour())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


def stop_receiver(receiver: Receiver) -> None:
    if receiver.server is not None:
        receiver.server.shutdown()
        receiver.server.server_close()
