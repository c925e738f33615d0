"""gallery.slack: the operators' message for a visit outcome, and posting it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gallery import slack

VISIT = "0123456789abcdef0123456789abcdef"
EXEC = "arn:aws:states:us-east-1:123456789012:execution:PipelineStateMachine-Xq3nT8bW2kLp:run"


def done(**extra) -> dict:
    return {
        "status": "DONE",
        "visit": {"visitId": VISIT, "displayId": "3", "theme": "painting"},
        "resultKey": f"results/{VISIT}.png",
        "portrait": {"portraitId": "mona-lisa", "title": "Lisa, Florence, 1503", "story": "..."},
        "timings": {"cropMs": 912, "portraitMs": 41, "swapMs": 6840, "restoreMs": 3125},
        "executionArn": EXEC,
        **extra,
    }


def test_a_done_message():
    assert slack.message(done()) == {
        "text": "\n".join(
            [
                f":frame_with_picture: Display 3: visit `{VISIT}` is *DONE*",
                "theme: painting",
                "portrait: Lisa, Florence, 1503",
                "timings (ms): cropMs 912, portraitMs 41, swapMs 6840, restoreMs 3125",
                f"execution: {EXEC}",
            ]
        )
    }


def test_a_done_message_without_title_or_timings():
    text = slack.message(done(portrait={"portraitId": "mona-lisa"}, timings=None, executionArn=None))["text"]
    assert text.splitlines()[2:] == ["portrait: mona-lisa"]


@pytest.mark.parametrize("status,icon", [("FAILED", ":rotating_light:"), ("REJECTED", ":leftwards_arrow_with_hook:")])
def test_a_failure_message_names_the_error(status, icon):
    message = slack.message(
        {
            "status": status,
            "visit": {"visitId": VISIT, "displayId": "7", "theme": "travel"},
            "reason": "InferenceFailed",
            "message": "The face engine took too long.",
            "executionArn": EXEC,
        }
    )
    lines = message["text"].splitlines()
    assert lines[0] == f"{icon} Display 7: visit `{VISIT}` is *{status}*"
    assert lines[1:] == [
        "theme: travel",
        "error: InferenceFailed: The face engine took too long.",
        f"execution: {EXEC}",
    ]


def test_an_unknown_status_has_no_icon():
    text = slack.message({"status": "ODD", "visit": {"visitId": VISIT, "displayId": "1"}})["text"]
    assert text.splitlines()[0] == f"Display 1: visit `{VISIT}` is *ODD*"


class _Webhook(BaseHTTPRequestHandler):
    status = 200
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"path": self.path, "type": self.headers["Content-Type"], "body": json.loads(body)})
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b"ok" if type(self).status < 300 else b"invalid_token")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook():
    class Handler(_Webhook):
        received: list[dict] = []

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Handler, f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/XXXX"
    server.shutdown()
    server.server_close()


def test_post_sends_the_message_as_json(webhook):
    handler, url = webhook
    slack.post(url, slack.message(done()))
    (request,) = handler.received
    assert request["path"] == "/services/T000/B000/XXXX" and request["type"] == "application/json"
    assert request["body"] == slack.message(done())


def test_a_refused_post_raises_slack_unavailable(webhook):
    handler, url = webhook
    handler.status = 403
    with pytest.raises(slack.SlackUnavailable, match="403: invalid_token"):
        slack.post(url, {"text": "hello"})


def test_an_unreachable_webhook_raises_slack_unavailable(webhook):
    _, url = webhook
    with pytest.raises(slack.SlackUnavailable, match="did not answer"):
        slack.post("http://127.0.0.1:9/services/none", {"text": "hello"}, timeout=1)
