"""gallery.inference: async SageMaker inference behind a Step Functions task token.

moto runs a real waiting task here: a state machine whose Task is
`sqs:sendMessage.waitForTaskToken` (moto executes it with the stepfunctions
`execute_state_machine` option), so SendTaskSuccess/SendTaskFailure are checked by how the
execution ends."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gallery import inference
from tests.unit.conftest import create_table, create_visits_table

REGION, ACCOUNT = "us-east-1", "123456789012"
BUCKET = "past-life-gallery-dev-photobucket"
VISIT = "0123456789abcdef0123456789abcdef"
ENDPOINT = "SwapEndpoint-7hQ2mZk1YxWc"

_SESSION: list[boto3.session.Session] = []


def session() -> boto3.session.Session:
    if not _SESSION:
        _SESSION.append(boto3.session.Session(region_name=REGION))
    return _SESSION[0]


class Aws:
    def __init__(self) -> None:
        s = session()
        self.s3, self.sfn, self.sqs = s.client("s3"), s.client("stepfunctions"), s.client("sqs")
        self.runtime = s.client("sagemaker-runtime")
        # moto 5.2.5 drops SendTaskFailure's cause (the execution ends with cause null), so the
        # cause is read from the request as it leaves the client.
        self.failures_sent: list[dict] = []
        self.sfn.meta.events.register(
            "provide-client-params.sfn.SendTaskFailure", lambda params, **_: self.failures_sent.append(dict(params))
        )
        self.s3.create_bucket(Bucket=BUCKET)
        self.tokens = create_table(s.resource("dynamodb"), "TokensTable", "tokens")
        self.visits = create_visits_table(s.resource("dynamodb"))
        self.visits.put_item(
            Item={"visitId": VISIT, "displayId": "3", "status": "PROCESSING", "createdAt": "2026-11-24T14:27:00Z"}
        )
        self.queue = self.sqs.create_queue(QueueName="task-tokens")["QueueUrl"]
        definition = {
            "StartAt": "SwapFace",
            "States": {
                "SwapFace": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    "Parameters": {"QueueUrl": self.queue, "MessageBody": {"taskToken.$": "$$.Task.Token"}},
                    "TimeoutSeconds": 20,
                    "End": True,
                }
            },
        }
        self.machine = self.sfn.create_state_machine(
            name="waiting", definition=json.dumps(definition), roleArn=f"arn:aws:iam::{ACCOUNT}:role/pipeline"
        )["stateMachineArn"]

    def waiting_task(self) -> tuple[str, str]:
        """Start an execution and return (executionArn, the task token it waits on)."""
        arn = self.sfn.start_execution(stateMachineArn=self.machine, name=uuid.uuid4().hex, input="{}")["executionArn"]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for m in self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=1).get("Messages", []):
                self.sqs.delete_message(QueueUrl=self.queue, ReceiptHandle=m["ReceiptHandle"])
                return arn, json.loads(m["Body"])["taskToken"]
            time.sleep(0.02)
        raise AssertionError("the execution never reached its waiting task")

    def ended(self, arn: str) -> dict:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            execution = self.sfn.describe_execution(executionArn=arn)
            if execution["status"] != "RUNNING":
                return execution
            time.sleep(0.02)
        raise AssertionError("the execution is still waiting")

    def keys(self) -> set[str]:
        return {o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}

    def put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=body)

    def start_swap(self, token: str, **warming: Any) -> str:
        """Invoke the swap; `warming` (sagemaker, publish) turns on the warming-up note."""
        self.put(f"faces/{VISIT}.png", b"face-png")
        self.put("catalog/painting/mona-lisa.jpg", b"portrait-jpeg")
        request = {
            "taskToken": token,
            "task": "swap",
            "endpoint": ENDPOINT,
            "visitId": VISIT,
            "theme": "painting",
            "inputs": {"face": f"faces/{VISIT}.png", "portrait": "catalog/painting/mona-lisa.jpg"},
            "resultKey": f"inference/swaps/{VISIT}.png",
        }
        if warming:
            warming["visits"] = self.visits
        return inference.invoke(self.s3, self.runtime, self.tokens, BUCKET, request, **warming)["inferenceId"]

    def callback(self, message: dict) -> dict:
        return inference.callback(self.s3, self.sfn, self.tokens, self.visits, BUCKET, message)


@pytest.fixture
def aws(aws_env):
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield Aws()


def notification(inference_id: str, status: str, **response) -> dict:
    """A SageMaker async notification (SNS Message) as the endpoint publishes it."""
    message = {
        "awsRegion": REGION,
        "eventTime": "2026-11-24T14:27:11.734Z",
        "receivedTime": "2026-11-24T14:27:04.893Z",
        "invocationStatus": status,
        "requestParameters": {
            "contentType": "application/json",
            "endpointName": ENDPOINT,
            "inputLocation": f"s3://{BUCKET}/inference/in/swap/{inference_id}.json",
        },
        "responseParameters": response,
        "inferenceId": inference_id,
        "eventVersion": "1.0",
        "eventSource": "aws:sagemaker",
        "eventName": "InferenceResult",
    }
    if status == "Failed":
        message["failureReason"] = (
            "ClientError: Received client error (422) from model. See the SageMaker "
            "Endpoint logs in your account for more information."
        )
    return message


def test_invoke_stores_the_token_and_the_input_object(aws):
    from moto.sagemakerruntime.models import sagemakerruntime_backends

    before = int(time.time())
    inference_id = aws.start_swap("token-of-the-swap-task")
    assert re.fullmatch(r"[0-9a-f]{32}-[0-9a-f]{16}", inference_id)
    token = aws.tokens.get_item(Key={"inferenceId": inference_id})["Item"]
    input_key = f"inference/in/swap/{inference_id}.json"
    assert token["taskToken"] == "token-of-the-swap-task" and token["visitId"] == VISIT and token["task"] == "swap"
    assert token["resultKey"] == f"inference/swaps/{VISIT}.png" and token["inputKey"] == input_key
    assert before * 1000 <= token["startedAtMs"] <= time.time() * 1000
    assert before + 2 * 86400 <= token["expiresAt"] <= time.time() + 2 * 86400

    body = json.loads(aws.s3.get_object(Bucket=BUCKET, Key=input_key)["Body"].read())
    assert body == {
        "task": "swap",
        "theme": "painting",
        "face": base64.b64encode(b"face-png").decode(),
        "portrait": base64.b64encode(b"portrait-jpeg").decode(),
    }
    started = sagemakerruntime_backends[ACCOUNT][REGION].async_results[ENDPOINT]
    assert list(started) == [f"s3://{BUCKET}/{input_key}"]


def _completed(aws, token: str, body: bytes = b"\x89PNG swapped") -> tuple[str, str, dict]:
    """A swap started for the task's token and finished: (inference id, output key, the
    endpoint's Completed notification)."""
    inference_id = aws.start_swap(token)
    output_key = f"inference/out/swap/{inference_id}.out"
    aws.put(output_key, body)
    message = notification(
        inference_id, "Completed", contentType="image/png", outputLocation=f"s3://{BUCKET}/{output_key}"
    )
    return inference_id, output_key, message


def test_success_copies_the_output_and_resumes_the_task(aws):
    execution, token = aws.waiting_task()
    inference_id, _, message = _completed(aws, token)
    assert aws.callback(message) == {"inferenceId": inference_id, "outcome": "success"}
    ended = aws.ended(execution)
    assert ended["status"] == "SUCCEEDED"
    output = json.loads(ended["output"])
    assert output["key"] == f"inference/swaps/{VISIT}.png" and output["inferenceId"] == inference_id
    assert isinstance(output["ms"], int) and output["ms"] >= 0
    result = aws.s3.get_object(Bucket=BUCKET, Key=f"inference/swaps/{VISIT}.png")
    assert result["Body"].read() == b"\x89PNG swapped" and result["ContentType"] == "image/png"
    # The request and the raw output are gone, and so is the token.
    assert aws.keys() == {f"faces/{VISIT}.png", "catalog/painting/mona-lisa.jpg", f"inference/swaps/{VISIT}.png"}
    assert "Item" not in aws.tokens.get_item(Key={"inferenceId": inference_id})


def test_a_duplicate_notification_is_ignored(aws):
    execution, token = aws.waiting_task()
    inference_id, output_key, message = _completed(aws, token, b"\x89PNG first")
    assert aws.callback(message)["outcome"] == "success"
    aws.put(output_key, b"\x89PNG second")
    assert aws.callback(message) == {"inferenceId": inference_id, "outcome": "ignored"}
    assert aws.s3.get_object(Bucket=BUCKET, Key=f"inference/swaps/{VISIT}.png")["Body"].read() == b"\x89PNG first"
    assert aws.ended(execution)["status"] == "SUCCEEDED"


def test_an_engine_refusal_fails_the_task_with_the_refusal_name(aws):
    execution, token = aws.waiting_task()
    inference_id = aws.start_swap(token)
    failure_key = f"inference/errors/swap/{uuid.uuid4()}-error.out"
    aws.put(
        failure_key, json.dumps({"error": "FaceNotFrontal", "message": "Please look straight at the camera."}).encode()
    )
    message = notification(
        inference_id, "Failed", contentType="application/json", failureLocation=f"s3://{BUCKET}/{failure_key}"
    )
    assert aws.callback(message) == {"inferenceId": inference_id, "outcome": "failure", "error": "FaceNotFrontal"}
    ended = aws.ended(execution)
    assert ended["status"] == "FAILED" and ended["error"] == "FaceNotFrontal"
    (sent,) = aws.failures_sent
    assert sent == {"taskToken": token, "error": "FaceNotFrontal", "cause": "Please look straight at the camera."}
    assert "Item" not in aws.tokens.get_item(Key={"inferenceId": inference_id})


@pytest.mark.parametrize(
    "body,said",
    [
        (json.dumps({"error": "InternalError", "message": "model crashed"}).encode(), "model crashed"),
        (
            json.dumps({"error": "BadRequest", "message": "missing or oversized body"}).encode(),
            "missing or oversized body",
        ),
        (b"<html>502 Bad Gateway</html>", None),
        (json.dumps(["not", "an", "object"]).encode(), None),
        (None, None),  # no failure object was written
    ],
)
def test_any_other_failure_is_inference_failed(aws, body, said):
    execution, token = aws.waiting_task()
    inference_id = aws.start_swap(token)
    failure_key = f"inference/errors/swap/{uuid.uuid4()}-error.out"
    if body is not None:
        aws.put(failure_key, body)
    message = notification(
        inference_id, "Failed", contentType="application/json", failureLocation=f"s3://{BUCKET}/{failure_key}"
    )
    assert aws.callback(message)["error"] == "InferenceFailed"
    ended = aws.ended(execution)
    assert ended["status"] == "FAILED" and ended["error"] == "InferenceFailed"
    (sent,) = aws.failures_sent
    assert sent["error"] == "InferenceFailed"
    assert said in sent["cause"] if said else sent["cause"] == message["failureReason"]


def test_a_notification_nobody_waits_for_is_ignored(aws):
    assert aws.callback(notification("f" * 32, "Completed", outputLocation=f"s3://{BUCKET}/x.out")) == {
        "inferenceId": "f" * 32,
        "outcome": "ignored",
    }
    assert aws.callback({"invocationStatus": "Completed"}) == {"inferenceId": None, "outcome": "ignored"}


def test_a_task_that_stopped_waiting_is_too_late(aws):
    # The token names no waiting task (timed out and retried, or the execution ended).
    inference_id = aws.start_swap("AQCEAAAAKgAAAAMAAAAAAAAAAVp3k1bQ0cM9xTqK0iH1ZtYxLr4kJ8Wm2nV6s0PfE3aGd7Uo5yRcB==")
    failure_key = f"inference/errors/swap/{uuid.uuid4()}-error.out"
    aws.put(failure_key, json.dumps({"error": "FaceTooSmall", "message": "Please come closer."}).encode())
    message = notification(inference_id, "Failed", failureLocation=f"s3://{BUCKET}/{failure_key}")
    assert aws.callback(message) == {"inferenceId": inference_id, "outcome": "too-late"}


def test_a_retried_delivery_after_a_failure_midway_answers_and_keeps_the_first_copy(aws):
    # A first delivery copied the result, then its SendTaskSuccess failed (throttled): the
    # result, the output and the token are all still there when Lambda retries the event.
    execution, token = aws.waiting_task()
    inference_id, output_key, message = _completed(aws, token, b"\x89PNG from the engine")
    aws.put(f"inference/swaps/{VISIT}.png", b"\x89PNG copied by the first delivery")
    assert aws.callback(message) == {"inferenceId": inference_id, "outcome": "success"}
    assert aws.ended(execution)["status"] == "SUCCEEDED"
    # Copied only if absent: the first copy stays.
    body = aws.s3.get_object(Bucket=BUCKET, Key=f"inference/swaps/{VISIT}.png")["Body"].read()
    assert body == b"\x89PNG copied by the first delivery"
    # The output goes only now that the task has its answer.
    assert output_key not in aws.keys()
    assert "Item" not in aws.tokens.get_item(Key={"inferenceId": inference_id})


def test_the_same_notification_twice_at_once_answers_once(aws):
    execution, token = aws.waiting_task()
    inference_id, output_key, message = _completed(aws, token)
    start = threading.Barrier(2)

    def deliver(_: int) -> str:
        start.wait()
        return aws.callback(message)["outcome"]

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(deliver, range(2)))
    # Both deliveries succeed (neither raises). AWS refuses the second SendTaskSuccess for a spent
    # token (too-late); moto 5.2.5 accepts it and ignores it, so both may say success here.
    assert "success" in outcomes and set(outcomes) <= {"success", "too-late", "duplicate", "ignored"}
    assert aws.ended(execution)["status"] == "SUCCEEDED"
    assert aws.s3.get_object(Bucket=BUCKET, Key=f"inference/swaps/{VISIT}.png")["Body"].read() == b"\x89PNG swapped"
    assert output_key not in aws.keys()


def test_nothing_is_written_for_a_deleted_visit(aws):
    execution, token = aws.waiting_task()
    inference_id, output_key, message = _completed(aws, token)
    aws.visits.delete_item(Key={"visitId": VISIT})
    assert aws.callback(message) == {"inferenceId": inference_id, "outcome": "visit-gone"}
    assert f"inference/swaps/{VISIT}.png" not in aws.keys() and output_key not in aws.keys()
    ended = aws.ended(execution)
    assert ended["status"] == "FAILED" and ended["error"] == "VisitGone"
    assert "Item" not in aws.visits.get_item(Key={"visitId": VISIT})


@pytest.mark.parametrize("status", ["FAILED", "DONE", "REJECTED"])
def test_nothing_is_written_for_a_visit_that_already_ended(aws, status):
    execution, token = aws.waiting_task()
    inference_id, output_key, message = _completed(aws, token)
    aws.visits.update_item(
        Key={"visitId": VISIT},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": status},
    )
    assert aws.callback(message)["outcome"] == "visit-gone"
    assert f"inference/swaps/{VISIT}.png" not in aws.keys() and output_key not in aws.keys()
    assert aws.ended(execution)["error"] == "VisitGone"


def _endpoint(instances: int):
    """The swap endpoint in moto's SageMaker with `instances` in service (0: scaled to zero),
    answering DescribeEndpoint as SageMaker does."""
    sm = boto3.session.Session(region_name=REGION).client("sagemaker")
    if not sm.list_endpoints(NameContains=ENDPOINT)["Endpoints"]:
        sm.create_model(
            ModelName="swap",
            PrimaryContainer={"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/past-life-gallery/face:1"},
            ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/engine",
        )
        variant = {"VariantName": "AllTraffic", "ModelName": "swap", "InitialInstanceCount": 1}
        sm.create_endpoint_config(
            EndpointConfigName="swap", ProductionVariants=[variant | {"InstanceType": "ml.c5.xlarge"}]
        )
        sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="swap")
    sm.update_endpoint_weights_and_capacities(
        EndpointName=ENDPOINT,
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": instances}],
    )
    return sm


def _invoke(aws, sagemaker, publish) -> str:
    return aws.start_swap(f"token-{uuid.uuid4().hex}", sagemaker=sagemaker, publish=publish)


def _visit(aws) -> dict:
    return aws.visits.get_item(Key={"visitId": VISIT}, ConsistentRead=True).get("Item") or {}


def _started(inference_id: str) -> bool:
    from moto.sagemakerruntime.models import sagemakerruntime_backends

    started = sagemakerruntime_backends[ACCOUNT][REGION].async_results.get(ENDPOINT, {})
    return f"s3://{BUCKET}/inference/in/swap/{inference_id}.json" in started


def test_a_cold_endpoint_puts_the_tile_in_warming_up_once_per_visit(aws):
    aws.visits.update_item(
        Key={"visitId": VISIT},
        UpdateExpression="SET theme = :theme, #l = :l",
        ExpressionAttributeNames={"#l": "language"},
        ExpressionAttributeValues={":theme": "painting", ":l": "en"},
    )
    published: list[dict] = []
    _invoke(aws, _endpoint(0), published.append)
    # The display's tile: the visit's theme and language, for the stored state its visit id.
    assert published == [
        {"displayId": "3", "visitId": VISIT, "status": "WARMING_UP", "theme": "painting", "language": "en"}
    ]
    noted = _visit(aws)
    assert noted["warmingUp"] is True and int(noted["firstWarmingUpAt"]) <= time.time()
    # The retried task (a cold start longer than one timeout) notes it again, but the tile is
    # not published again; nor when capacity came and went before the restore step.
    _invoke(aws, _endpoint(0), published.append)
    _invoke(aws, _endpoint(1), published.append)
    assert "warmingUp" not in _visit(aws)
    _invoke(aws, _endpoint(0), published.append)
    assert _visit(aws)["warmingUp"] is True
    assert len(published) == 1


def test_a_warm_endpoint_publishes_nothing(aws):
    published: list[dict] = []
    _invoke(aws, _endpoint(1), published.append)
    assert published == []
    assert "warmingUp" not in _visit(aws) and "firstWarmingUpAt" not in _visit(aws)


@pytest.mark.parametrize("status", ["DONE", "REJECTED", "FAILED", "DELETING", None])
def test_a_visit_no_longer_processing_gets_no_warming_up_tile(aws, status):
    if status is None:
        aws.visits.delete_item(Key={"visitId": VISIT})
    else:
        aws.visits.update_item(
            Key={"visitId": VISIT},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": status},
        )
    published: list[dict] = []
    _invoke(aws, _endpoint(0), published.append)
    assert published == []
    assert "warmingUp" not in _visit(aws) and "firstWarmingUpAt" not in _visit(aws)


def test_a_failed_publish_is_logged_and_the_inference_starts_all_the_same(aws, caplog):
    def refused(tile: dict) -> None:
        raise RuntimeError("AppSync answered 503")

    with caplog.at_level("WARNING", logger="gallery.inference"):
        inference_id = _invoke(aws, _endpoint(0), refused)
    assert _started(inference_id)
    assert aws.tokens.get_item(Key={"inferenceId": inference_id})["Item"]["visitId"] == VISIT
    (record,) = [r for r in caplog.records if r.name == "gallery.inference"]
    assert "warming up" in record.getMessage() and "503" in str(record.exc_info[1])
    # Noted, so a retried task does not try again: the tablet still says it (warmingUp).
    assert _visit(aws)["warmingUp"] is True
    published: list[dict] = []
    _invoke(aws, _endpoint(0), published.append)
    assert published == []
