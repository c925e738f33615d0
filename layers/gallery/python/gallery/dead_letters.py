"""Dead letters: what an asynchronous hop could not deliver, and sending it back.

Three shapes reach the dead-letter queues (template.yaml, "dead letters"):
- a Lambda on-failure destination record (requestContext, requestPayload, ...): the function
  failed its last retry; redrive invokes it again, asynchronously, with requestPayload;
- an EventBridge target's dead letter: the original event, with RULE_ARN, TARGET_ARN and
  ERROR_CODE message attributes; redrive starts the state machine target with the event (as
  the rule would have: EventBridge refuses "aws.*" sources from PutEvents, so the event cannot
  go back on the bus) or invokes the Lambda target asynchronously;
- an SNS subscription's dead letter: the notification SNS could not hand to Lambda; redrive
  publishes its message to the topic again.

A message is deleted only after its resend was accepted; anything else stays, with the reason.
The consumers are idempotent (the claim, the callback's inference id), so a resend is safe."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import ChangeMessageVisibilityBatchRequestEntryTypeDef, MessageTypeDef
    from mypy_boto3_stepfunctions import SFNClient

PEEK_LIMIT = 1000  # messages examined for the oldest one's age


@dataclass
class Depth:
    queue: str
    messages: int
    oldest_age_seconds: float | None  # None when empty


@dataclass
class Redriven:
    queue: str
    sent: list[str] = field(default_factory=list)  # message ids resent and deleted
    kept: list[tuple[str, str]] = field(default_factory=list)  # (message id, why)


def depth(sqs: SQSClient, name: str, url: str, now: float | None = None) -> Depth:
    """A queue's depth and the age of its oldest message. SQS has no attribute for that age
    (CloudWatch has ApproximateAgeOfOldestMessage, minutes late), so the messages are read and
    made visible again at once."""
    count = int(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )
    if count == 0:
        return Depth(name, 0, None)
    messages = _receive_all(sqs, url, min(count, PEEK_LIMIT))
    _release(sqs, url, messages)
    sent = [int(m["Attributes"]["SentTimestamp"]) for m in messages if "SentTimestamp" in m.get("Attributes", {})]
    now = time.time() if now is None else now
    return Depth(name, count, max(0.0, now - min(sent) / 1000) if sent else None)


def redrive(queue: str, url: str, sqs: SQSClient, lam: LambdaClient, sfn: SFNClient, sns: SNSClient) -> Redriven:
    """Send every message of one queue back where it came from; delete what was accepted."""
    result = Redriven(queue)
    for message in _receive_all(sqs, url, PEEK_LIMIT, visibility=60):
        try:
            resend(message, lam=lam, sfn=sfn, sns=sns)
        except Exception as e:  # any refusal keeps the message for the next try
            result.kept.append((message["MessageId"], f"{type(e).__name__}: {e}"))
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
            continue
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        result.sent.append(message["MessageId"])
    return result


def resend(message: Mapping[str, Any], lam: LambdaClient, sfn: SFNClient, sns: SNSClient) -> str:
    """Resend one SQS message (as received, with its message attributes); returns what was done.
    Raises when the resend was not accepted, or the message is not a dead letter we know."""
    body = json.loads(message["Body"])
    attributes = {k: v.get("StringValue") for k, v in (message.get("MessageAttributes") or {}).items()}
    if isinstance(body, dict) and "requestContext" in body and "requestPayload" in body:
        function = _unqualified(body["requestContext"]["functionArn"])
        status = lam.invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(body["requestPayload"]))
        if status["StatusCode"] != 202:
            raise RuntimeError(f"Lambda answered {status['StatusCode']} for {function}")
        return f"invoked {function}"
    if "TARGET_ARN" in attributes:
        target = attributes["TARGET_ARN"]
        service = target.split(":")[2]
        if service == "states":
            # EventBridge names the executions it starts; so does this (the claim makes a
            # replay safe).
            arn = sfn.start_execution(stateMachineArn=target, name=str(uuid.uuid4()), input=json.dumps(body))
            return f"started {arn['executionArn']}"
        if service == "lambda":
            lam.invoke(FunctionName=target, InvocationType="Event", Payload=json.dumps(body))
            return f"invoked {target}"
        raise ValueError(f"no redrive for an EventBridge target of {service}")
    if isinstance(body, dict) and body.get("Type") == "Notification" and "TopicArn" in body:
        extra = {"Subject": body["Subject"]} if body.get("Subject") else {}
        sns.publish(TopicArn=body["TopicArn"], Message=body["Message"], **extra)
        return f"published to {body['TopicArn']}"
    raise ValueError("not a dead letter this knows how to send back")


def _unqualified(function_arn: str) -> str:
    """arn:...:function:NAME:$LATEST -> arn:...:function:NAME (a redrive runs the current code)."""
    parts = function_arn.split(":")
    return ":".join(parts[:7])


def _receive_all(sqs: SQSClient, url: str, limit: int, visibility: int = 30) -> list[MessageTypeDef]:
    """Receive up to `limit` messages, each hidden for `visibility` seconds so none comes twice."""
    messages: list[MessageTypeDef] = []
    while len(messages) < limit:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(10, limit - len(messages)),
            VisibilityTimeout=visibility,
            AttributeNames=["SentTimestamp"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not batch:
            break
        messages.extend(batch)
    return messages


def _release(sqs: SQSClient, url: str, messages: list[MessageTypeDef]) -> None:
    for i in range(0, len(messages), 10):
        entries: list[ChangeMessageVisibilityBatchRequestEntryTypeDef] = [
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for n, m in enumerate(messages[i : i + 10])
        ]
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
