"""The operators' Slack, locally: an incoming-webhook receiver that records every post."""

from __future__ import annotations

import json
import threading

from gallery_local.http_util import LoopbackServer, QuietHandler


class _Handler(QuietHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        receiver: SlackReceiver = self.server.owner.receiver
        data = self.body()
        if receiver.down:
            self.reply(503, b"service unavailable", "text/plain")
            return
        try:
            payload = json.loads(data)
        except ValueError:
            self.reply(400, b"invalid_payload", "text/plain")
            return
        with receiver.lock:
            receiver.messages.append(payload)
        self.reply(200, b"ok", "text/plain")


class SlackReceiver:
    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.down = False  # True answers 503, as Slack does during an outage
        self.lock = threading.Lock()
        self.server = LoopbackServer(_Handler)
        self.server.receiver = self

    @property
    def webhook_url(self) -> str:
        return f"{self.server.url}/services/LOCAL/WEBHOOK"

    def start(self) -> SlackReceiver:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def texts(self) -> list[str]:
        with self.lock:
            return [m.get("text", "") for m in self.messages]
