"""A failed Slack post leaves no piece of the webhook URL (the secret) in the execution history
(kept 90 days), in the state's output, or in what the functions log."""

from __future__ import annotations

import json
import secrets
import socket

import pytest
from aws_lambda_powertools.utilities import parameters

from gallery_local.demo import DEMO
from gallery_local.tablet import Tablet
from tests.e2e.conftest import state_names

VISITOR = (DEMO / "photos" / "visitor-a.jpg").read_bytes()


def _refused_url() -> str:
    with socket.socket() as s:  # free a moment ago, closed now: the connection is refused
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def webhook(stack):
    """The stack's webhook secret, for one test, at a URL with its own secret path."""
    sm = stack.client("secretsmanager")
    (arn,) = [x["ARN"] for x in sm.list_secrets()["SecretList"] if "slack" in x["Name"].lower()]
    original = sm.get_secret_value(SecretId=arn)["SecretString"]
    token = secrets.token_urlsafe(18)

    def point_at(base: str) -> str:
        url = f"{base}/services/T0GALLERY/B0GALLERY/{token}"
        sm.put_secret_value(SecretId=arn, SecretString=url)
        parameters.clear_caches()  # the handlers run in this process and cache the secret
        return url

    yield point_at, token
    sm.put_secret_value(SecretId=arn, SecretString=original)
    parameters.clear_caches()


@pytest.mark.parametrize("fault", ["down", "refused"])
def test_a_failed_slack_post_leaves_no_webhook_url(stack, webhook, fault, capfd):
    point_at, token = webhook
    if fault == "down":
        point_at(stack.slack.server.url)
        stack.slack.down = True  # answers 503
    else:
        point_at(_refused_url())
    visit = Tablet(stack, 7).visit(VISITOR, "animation")
    assert visit.status == "DONE", visit.view
    arn = stack.table("VisitsTable").get_item(Key={"visitId": visit.visit_id})["Item"]["executionArn"]
    assert stack.wait_execution(arn)["status"] == "SUCCEEDED"
    assert "NotifySlackSkipped" in state_names(stack, arn)
    history = stack.history(arn)
    failed = [e for e in history if e["type"] == "TaskFailed" or e["type"] == "LambdaFunctionFailed"]
    skipped = next(e for e in history if e.get("stateEnteredEventDetails", {}).get("name") == "NotifySlackSkipped")
    error = json.loads(skipped["stateEnteredEventDetails"]["input"])["error"]
    assert "Slack" in json.dumps(error) or failed, "the state's error names the failure"
    pieces = (token, "T0GALLERY", "B0GALLERY")
    text = json.dumps(history, default=str) + json.dumps(stack.wait_execution(arn), default=str)
    assert [p for p in pieces if p in text] == []
    logged = "".join(capfd.readouterr())
    assert [p for p in pieces if p in logged] == []
