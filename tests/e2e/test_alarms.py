"""An operator alarm reaches Slack on the local stack: CloudWatch publishes to OperatorAlarmTopic,
SNS invokes AlarmToSlackFunction with its own role, and the post reaches the webhook; a webhook
that keeps failing leaves the alarm in the operations dead-letter queue, not nowhere."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.e2e.conftest import until

EVENT = Path(__file__).resolve().parents[2] / "events" / "alarm_to_slack.json"


def alarm_message() -> str:
    return json.loads(EVENT.read_text())["Records"][0]["Sns"]["Message"]


def test_an_alarm_reaches_the_operators_slack(stack):
    before = len(stack.slack.texts())
    message = alarm_message()
    stack.client("sns").publish(TopicArn=stack.names.arn("OperatorAlarmTopic"), Message=message)
    assert until(lambda: len(stack.slack.texts()) > before, 20)
    post = stack.slack.texts()[before]
    assert json.loads(message)["AlarmName"] in post and "ALARM" in post
    assert "123456789012" not in post  # the account id stays out of the channel


def test_an_alarm_slack_refuses_goes_to_the_dead_letter_queue(stack):
    sqs = stack.client("sqs")
    queue = stack.names.ref("OperationsDeadLetterQueue")
    marker = f"canary-{time.time_ns()}"
    alarm = json.loads(alarm_message()) | {"AlarmName": marker}

    def ours() -> list[dict]:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=0)
        return [m for m in got.get("Messages", []) if marker in m["Body"]]

    stack.slack.down = True
    stack.client("sns").publish(TopicArn=stack.names.arn("OperatorAlarmTopic"), Message=json.dumps(alarm))
    # Lambda's two retries are minutes apart on AWS; the local stack waits less.
    assert until(lambda: bool(ours()), 90)
    [message] = ours()
    record = json.loads(message["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert json.loads(record["requestPayload"]["Records"][0]["Sns"]["Message"])["AlarmName"] == marker
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
