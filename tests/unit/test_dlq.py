"""gallery.dead_letters on moto's SQS, Lambda, Step Functions and SNS: each dead-letter shape goes
back where it came from, and a message leaves its queue only when the resend was accepted."""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest

from gallery import dead_letters

ACCOUNT = "123456789012"
UPLOAD_EVENT = {
    "version": "0",
    "id": "e0",
    "detail-type": "Object Created",
    "source": "aws.s3",
    "detail": {"bucket": {"name": "photos"}, "object": {"key": "uploads/3/" + "a" * 32 + ".jpg"}},
}


@pytest.fixture
def aws(aws_session):
    sqs = aws_session.client("sqs")
    clients = {
        "sqs": sqs,
        "lam": aws_session.client("lambda"),
        "sfn": aws_session.client("stepfunctions"),
        "sns": aws_session.client("sns"),
        "iam": aws_session.client("iam"),
    }
    clients["url"] = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    return clients


def _role(iam) -> str:
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "*"}]}
    return iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _function(aws) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return event\n")
    return aws["lam"].create_function(
        FunctionName="callback",
        Runtime="python3.12",
        Role=_role(aws["iam"]),
        Handler="app.handler",
        Code={"ZipFile": buf.getvalue()},
    )["FunctionArn"]


def _messages(aws) -> list[dict]:
    return (
        aws["sqs"].receive_message(QueueUrl=aws["url"], MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    )


def _redrive(aws) -> dead_letters.Redriven:
    return dead_letters.redrive("q", aws["url"], aws["sqs"], aws["lam"], aws["sfn"], aws["sns"])


def _destination_record(function_arn: str) -> dict:
    return {
        "version": "1.0",
        "requestContext": {
            "requestId": "r1",
            "functionArn": f"{function_arn}:$LATEST",
            "condition": "RetriesExhausted",
        },
        "requestPayload": {"Records": [{"Sns": {"Message": "{}"}}]},
        "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        "responsePayload": {"errorType": "AccessDenied"},
    }


def test_a_destination_record_is_invoked_again_and_deleted(aws):
    arn = _function(aws)
    aws["sqs"].send_message(QueueUrl=aws["url"], MessageBody=json.dumps(_destination_record(arn)))
    result = _redrive(aws)
    assert len(result.sent) == 1 and result.kept == []
    assert _messages(aws) == []


def test_a_record_whose_function_is_gone_stays_in_the_queue(aws):
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:gone"
    aws["sqs"].send_message(QueueUrl=aws["url"], MessageBody=json.dumps(_destination_record(arn)))
    result = _redrive(aws)
    assert result.sent == [] and len(result.kept) == 1 and "ResourceNotFound" in result.kept[0][1]
    assert len(_messages(aws)) == 1  # visible again for the next try


def test_an_eventbridge_dead_letter_starts_the_state_machine_with_the_event(aws):
    machine = aws["sfn"].create_state_machine(
        name="pipeline",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=_role(aws["iam"]),
    )["stateMachineArn"]
    attributes = {
        "RULE_ARN": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/upload",
        "TARGET_ARN": machine,
        "ERROR_CODE": "NO_PERMISSIONS",
    }
    aws["sqs"].send_message(
        QueueUrl=aws["url"],
        MessageBody=json.dumps(UPLOAD_EVENT),
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )
    result = _redrive(aws)
    assert len(result.sent) == 1 and _messages(aws) == []
    (execution,) = aws["sfn"].list_executions(stateMachineArn=machine)["executions"]
    assert json.loads(aws["sfn"].describe_execution(executionArn=execution["executionArn"])["input"]) == UPLOAD_EVENT


def test_an_eventbridge_dead_letter_for_a_missing_machine_is_kept(aws):
    aws["sqs"].send_message(
        QueueUrl=aws["url"],
        MessageBody=json.dumps(UPLOAD_EVENT),
        MessageAttributes={
            "TARGET_ARN": {
                "DataType": "String",
                "StringValue": f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:gone",
            }
        },
    )
    result = _redrive(aws)
    assert result.sent == [] and len(result.kept) == 1
    assert len(_messages(aws)) == 1


def test_an_sns_dead_letter_is_published_to_its_topic_again(aws):
    topic = aws["sns"].create_topic(Name="inference-success")["TopicArn"]
    watcher = aws["sqs"].create_queue(QueueName="watcher")
    watcher_arn = aws["sqs"].get_queue_attributes(QueueUrl=watcher["QueueUrl"], AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=watcher_arn)
    notification = {"Type": "Notification", "MessageId": "m1", "TopicArn": topic, "Message": '{"inferenceId": "i1"}'}
    aws["sqs"].send_message(QueueUrl=aws["url"], MessageBody=json.dumps(notification))
    assert len(_redrive(aws).sent) == 1 and _messages(aws) == []
    (delivered,) = aws["sqs"].receive_message(QueueUrl=watcher["QueueUrl"])["Messages"]
    assert json.loads(json.loads(delivered["Body"])["Message"]) == {"inferenceId": "i1"}


def test_an_unknown_message_is_kept(aws):
    aws["sqs"].send_message(QueueUrl=aws["url"], MessageBody='{"hello": 1}')
    result = _redrive(aws)
    assert result.sent == [] and "knows how" in result.kept[0][1]


def test_depth_counts_and_ages_without_consuming(aws):
    assert dead_letters.depth(aws["sqs"], "q", aws["url"]) == dead_letters.Depth("q", 0, None)
    for i in range(12):
        aws["sqs"].send_message(QueueUrl=aws["url"], MessageBody=json.dumps({"n": i}))
    d = dead_letters.depth(aws["sqs"], "q", aws["url"], now=time.time() + 90)
    assert d.messages == 12 and 89 <= d.oldest_age_seconds <= 95
    assert dead_letters.depth(aws["sqs"], "q", aws["url"]).messages == 12  # all visible again
