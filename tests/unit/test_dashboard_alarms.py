"""The dashboard and the alarms in template.yaml, and the alarm-to-Slack post.

The dashboard must name only metrics that something emits (the functions' own, through
gallery.event_metrics, or AWS namespaces) and only resources the template has; every alarm
must do something; an alarm notification must reach Slack readable and without secrets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gallery import alarms, event_metrics, slack
from tests.conftest import load_template
from tests.unit._functions import function_module, invoke, load_event

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
NAMESPACE = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
AWS_NAMESPACES = {"AWS/SageMaker", "AWS/States", "AWS/Lambda", "AWS/ApiGateway", "AWS/SQS"}
EVENT = load_event("alarm_to_slack")


def dashboard_body() -> tuple[str, dict]:
    (dashboard,) = [r for r in RESOURCES.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    text = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(text, str)
    # What CloudFormation substitutes: digits parse as a number where the JSON has a bare
    # ${Param} (the p95 annotation) and as part of a string elsewhere.
    return text, json.loads(re.sub(r"\$\{[^}]+\}", "1", text))


def metric_rows(body: dict):
    for widget in body["widgets"]:
        for row in widget["properties"].get("metrics", []):
            yield widget["properties"]["title"], row


def test_dashboard_substitutes_only_what_the_template_has():
    text, _ = dashboard_body()
    names = set(re.findall(r"\$\{([^}]+)\}", text))
    assert names
    for name in names:
        if name.startswith("AWS::"):
            assert name in {"AWS::Region", "AWS::StackName"}, name
            continue
        logical = name.split(".")[0]
        assert logical in RESOURCES or logical in TEMPLATE["Parameters"], name


def test_dashboard_names_only_emitted_metrics():
    _, body = dashboard_body()
    ours = set()
    for title, row in metric_rows(body):
        if isinstance(row[0], dict):
            expression = row[0]["expression"]
            namespace = re.match(r"SEARCH\('\{([^,]+),", expression)[1]
            assert namespace in AWS_NAMESPACES, (title, expression)
            continue
        namespace, metric = row[0], row[1]
        if namespace == NAMESPACE:
            ours.add(metric)
            assert "service" in row and row[row.index("service") + 1] == "gallery", title
        else:
            assert namespace in AWS_NAMESPACES, (title, namespace)
    # Every metric the functions emit is drawn, and nothing else of ours.
    assert ours == set(event_metrics.METRIC_NAMES)


def test_dashboard_covers_what_operators_watch():
    text, _ = dashboard_body()
    for metric in (
        "ApproximateBacklogSize",
        "HasBacklogWithoutCapacity",
        "ApproximateAgeOfOldestRequest",
        "InvocationFailures",
        "NotificationFailures",
        "ModelLatency",
        "ExecutionsFailed",
        "ExecutionsTimedOut",
        "ExecutionTime",
        "Errors",
        "Throttles",
        "4XXError",
        "5XXError",
        "ApproximateNumberOfMessagesVisible",
    ):
        assert f'"{metric}"' in text or f'\\"{metric}\\"' in text, metric


ALARMS = {k: r for k, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


@pytest.mark.parametrize("logical", sorted(ALARMS))
def test_every_alarm_has_an_action(logical: str):
    props = ALARMS[logical]["Properties"]
    assert props.get("AlarmActions"), logical
    for action in props["AlarmActions"]:
        target = action.get("Ref") if isinstance(action, dict) else None
        assert target in RESOURCES, (logical, action)


def test_operator_alarms_reach_the_topic_and_the_topic_reaches_slack():
    to_topic = {k for k, r in ALARMS.items() if {"Ref": "OperatorAlarmTopic"} in r["Properties"]["AlarmActions"]}
    # Only the scale-out-from-zero alarms act on a scaling policy instead.
    assert set(ALARMS) - to_topic == {"SwapBacklogWithoutCapacityAlarm", "RestoreBacklogWithoutCapacityAlarm"}
    events = RESOURCES["AlarmToSlackFunction"]["Properties"]["Events"]
    assert [e["Properties"]["Topic"] for e in events.values() if e["Type"] == "SNS"] == [{"Ref": "OperatorAlarmTopic"}]
    namespaces = {r["Properties"].get("Namespace") for r in ALARMS.values()}
    assert {NAMESPACE, "AWS/SageMaker", "AWS/States", "AWS/Lambda", "AWS/ApiGateway"} <= namespaces


def test_alarm_notification_becomes_a_readable_post_without_secrets(monkeypatch):
    (record,) = EVENT["Records"]
    post = alarms.message(record["Sns"]["Message"], record["Sns"]["Subject"])
    text = post["text"]
    assert set(post) == {"text"}
    assert "VisitsFailedAlarm" in text and "*ALARM*" in text and "(was OK)" in text
    assert "PastLifeGallery/VisitsFailed (service=gallery)" in text
    assert "Threshold Crossed" in text and "re-run" in text
    assert "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/" in text
    assert "123456789012" not in text  # the account id stays out of the channel

    # The handler posts it with the webhook from Secrets Manager; the URL never shows.
    webhook = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"
    sent = []
    monkeypatch.setattr(slack, "post", lambda url, payload: sent.append((url, payload)))
    app = function_module("alarm_to_slack")
    monkeypatch.setattr(app.parameters, "get_secret", lambda arn, max_age: webhook)
    monkeypatch.setenv("SLACK_WEBHOOK_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf")
    assert invoke("alarm_to_slack", EVENT) == {"posted": 1}
    assert sent == [(webhook, post)] and "XXXXsecretXXXX" not in json.dumps(post)


def test_a_message_that_is_not_an_alarm_is_still_posted():
    post = alarms.message("hello operators", "Test")
    assert post == {"text": ":information_source: Test: hello operators"}
