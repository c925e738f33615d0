"""The operators' Slack, locally: an incoming-webhook receiver that records every post."""

from __future__ import annotations

import json
import threading

from gallery_local.http_util import LoopbackService, QuietHandler


class _Handler(QuietHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        receiver: SlackReceiver = self.server.app
        data = self.body()
        if receiver.down:
            self.reply(receiver.down_status, b"service unavailable", "text/plain")
            return
        try:
            payload = json.loads(data)
        except ValueError:
            self.reply(400, b"invalid_payload", "text/plain")
            return
        with receiver.lock:
            receiver.messages.append(payload)
        self.reply(200, b"ok", "text/plain")


class SlackReceiver(LoopbackService):
    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.down = False  # True answers down_status, as Slack does during an outage
        self.down_status = 503  # or 500: Slack's webhooks answer either when they fail
        self.lock = threading.Lock()
        super().__init__(_Handler)

    @property
    def webhook_url(self) -> str:
        return f"{self.server.url}/services/LOCAL/WEBHOOK"

    def texts(self) -> list[str]:
        with self.lock:
            return [m.get("text", "") for m in self.messages]
