"""A small threaded HTTP server on loopback, shared by the local Slack, AppSync and API."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer(ThreadingHTTPServer):
    """The HTTP server, with the object its handlers serve."""

    app: Any


class LoopbackServer:
    """Runs a BaseHTTPRequestHandler class in a background thread on 127.0.0.1. Handlers reach
    the object they serve as `self.server.app`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], app: object, port: int = 0) -> None:
        self.httpd = AppServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.httpd.app = app
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=handler.__name__, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> LoopbackServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class LoopbackService:
    """A local stand-in for a web service, answered by `handler` on its own loopback port."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], port: int = 0) -> None:
        self.server = LoopbackServer(handler, self, port)

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: AppServer  # a LoopbackServer's

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(
        self, status: int, body: bytes, content_type: str = "application/json", headers: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
