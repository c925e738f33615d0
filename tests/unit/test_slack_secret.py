"""The Slack webhook URL is a secret: no failure to post may carry it into an error, a log line
or a traceback. Each case talks to a real socket on loopback: the local stack's Slack receiver
while it is down, a server that answers 500 and echoes the request in its body (as some proxies
do), a port that refuses the connection, one that never answers, and a URL requests rejects."""

from __future__ import annotations

import json
import logging
import secrets
import socket
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from aws_lambda_powertools.utilities import parameters

from gallery import slack
from gallery_local.slack_receiver import SlackReceiver
from tests.unit._functions import invoke, load_event
from tests.unit._http import serve
from tests.unit.test_handlers_events import (  # noqa: F401 - fixtures used by name
    ACCOUNT,
    REGION,
    _fresh_runtime_clients,
    aws,
    session,
)

# What a Slack incoming-webhook path looks like; the last segment is the token.
TOKEN = secrets.token_urlsafe(18)
SECRET_PATH = f"/services/T0GALLERY/B0GALLERY/{TOKEN}"
SECRET_PIECES = (SECRET_PATH, TOKEN, "T0GALLERY", "B0GALLERY")


class _EchoingError(BaseHTTPRequestHandler):
    """Answers 500 with the request line and the URL in the body."""

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = f"500 Internal Server Error for POST http://{self.headers['Host']}{self.path}".encode()
        self.send_response(500)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver_down() -> Iterator[str]:
    receiver = SlackReceiver()
    receiver.start()
    receiver.down = True
    try:
        yield receiver.server.url
    finally:
        receiver.stop()


@pytest.fixture
def echoing_500() -> Iterator[str]:
    with serve(_EchoingError) as base:
        yield base


@pytest.fixture
def refused() -> Iterator[str]:
    with socket.socket() as s:  # a port that was free a moment ago, now closed: nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yield f"http://127.0.0.1:{port}"


@pytest.fixture
def silent() -> Iterator[str]:
    with socket.socket() as s:  # accepts connections into the backlog, never answers
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


FAULTS = {
    "receiver_down": "Slack answered 503",
    "echoing_500": "Slack answered 500",
    "refused": "ConnectionError",
    "silent": "Timeout",
}


def leaks(text: str) -> list[str]:
    return [piece for piece in SECRET_PIECES if piece in text]


def everything_about(err: BaseException) -> str:
    """All that a runtime, a log handler or X-Ray could print of the error."""
    return "\n".join([str(err), repr(err), *traceback.format_exception(err), repr(err.__dict__)])


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failed_post_never_carries_the_webhook_url(fault: str, request: pytest.FixtureRequest, caplog) -> None:
    base = request.getfixturevalue(fault)
    # The functions log at INFO (LOG_LEVEL in template.yaml); urllib3's DEBUG lines are never on.
    caplog.set_level(logging.INFO)
    with pytest.raises(slack.SlackUnavailable) as raised:
        slack.post(base + SECRET_PATH, {"text": "hello"}, timeout=0.5)
    err = raised.value
    assert FAULTS[fault] in str(err)
    assert "127.0.0.1" in str(err) or str(err).startswith("Slack answered")  # where, for the operator
    assert err.__cause__ is None and err.__context__ is None, "the requests exception holds the URL"
    assert leaks(everything_about(err)) == []
    assert leaks(caplog.text) == []


def test_a_url_requests_cannot_parse_is_not_repeated() -> None:
    with pytest.raises(slack.SlackUnavailable) as raised:
        slack.post(f"http://[{TOKEN}{SECRET_PATH}", {"text": "hello"}, timeout=0.5)
    assert "InvalidURL" in str(raised.value)
    assert leaks(everything_about(raised.value)) == []


def test_scrub_removes_every_piece_of_the_path() -> None:
    url = f"https://hooks.slack.com{SECRET_PATH}?token={TOKEN}"
    body = f"no_service: {url} ({SECRET_PATH}) token={TOKEN} /services/T0GALLERY/B0GALLERY/"
    assert leaks(slack.scrub(body, url)) == []
    assert slack.where(url) == "https://hooks.slack.com"


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("fault", ["receiver_down", "refused"])
def test_the_handler_fails_without_the_url_in_its_error_or_its_log(
    fault: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, capsys, caplog
) -> None:
    """The real notify_slack handler, its secret in Secrets Manager (moto), Slack down or gone:
    what the state machine receives (errorMessage, errorType, stack trace) and everything the
    function logs hold no piece of the webhook URL."""
    base = request.getfixturevalue(fault)
    arn = (
        session()
        .client("secretsmanager")
        .create_secret(Name="past-life-gallery/slack-secret-test", SecretString=base + SECRET_PATH)["ARN"]
    )
    assert arn.startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:")
    monkeypatch.setenv("SLACK_WEBHOOK_SECRET_ARN", arn)
    parameters.clear_caches()
    caplog.set_level(logging.INFO)
    with pytest.raises(slack.SlackUnavailable) as raised:
        invoke("notify_slack", load_event("notify_slack_failed"))
    parameters.clear_caches()
    # What Lambda reports for an unhandled error, and so what the Catch puts in the state.
    reported = {
        "errorMessage": str(raised.value),
        "errorType": type(raised.value).__name__,
        "stackTrace": traceback.format_exception(raised.value),
    }
    assert reported["errorMessage"].startswith(("Slack answered 503", "Slack did not answer"))
    out = capsys.readouterr()
    assert leaks(json.dumps(reported)) == []
    assert leaks(out.out + out.err + caplog.text) == []
