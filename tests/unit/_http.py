"""A local HTTP endpoint for unit tests that post somewhere (AppSync, a Slack webhook): it records
every POST and answers what the test set."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Recorder(BaseHTTPRequestHandler):
    """Keeps each POST as {"path", "headers", "body" (parsed JSON)} in `received`; answers `status`
    with `answer` (bytes as they are, as text/plain; anything else as JSON)."""

    status = 200
    answer: Any = b""
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        type(self).received.append(
            {"path": self.path, "headers": dict(self.headers), "body": json.loads(raw or "null")}
        )
        answer = type(self).answer
        text = isinstance(answer, bytes)
        payload = answer if text else json.dumps(answer).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "text/plain" if text else "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` on a free loopback port for the block: its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def recorder(**answer: Any) -> Iterator[tuple[type[Recorder], str]]:
    """A Recorder of its own (its own `received`; `answer` sets status and answer) on a free
    port: (the class, to read and to change the answer; the base URL)."""
    handler = type("Recorder", (Recorder,), {"received": [], **answer})
    with serve(handler) as base:
        yield handler, base
