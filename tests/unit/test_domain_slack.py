"""gallery.slack: the operators' message for a visit outcome, and posting it."""

from __future__ import annotations

import pytest

from gallery import slack
from tests.unit._http import recorder

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


@pytest.fixture
def webhook():
    with recorder(answer=b"ok") as (handler, base):
        yield handler, f"{base}/services/T000/B000/XXXX"


def test_post_sends_the_message_as_json(webhook):
    handler, url = webhook
    slack.post(url, slack.message(done()))
    (request,) = handler.received
    assert request["path"] == "/services/T000/B000/XXXX" and request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == slack.message(done())


def test_a_refused_post_raises_slack_unavailable(webhook):
    handler, url = webhook
    handler.status, handler.answer = 403, b"invalid_token"
    with pytest.raises(slack.SlackUnavailable, match="403: invalid_token"):
        slack.post(url, {"text": "hello"})


def test_an_unreachable_webhook_raises_slack_unavailable(webhook):
    _, url = webhook
    with pytest.raises(slack.SlackUnavailable, match="did not answer"):
        slack.post("http://127.0.0.1:9/services/none", {"text": "hello"}, timeout=1)
