"""Canaries for every moto internal that the local stack hooks (gallery_local.moto_hooks).

Each test checks two things: that moto still has the gap the hook fills (so a moto upgrade
that closes it says the hook can go), and that the hooked behaviour works on the stack."""

from __future__ import annotations

import inspect
import json
import time

import moto
import pytest

from gallery_local import moto_hooks, moto_iam_hooks
from gallery_local.sagemaker_local import HANG
from tests.e2e.conftest import jpeg


def test_moto_is_the_version_the_hooks_were_written_for():
    assert moto.__version__ == "5.2.5", "moto changed: re-check every hook in gallery_local/moto_hooks.py"


def test_lambda_runs_the_real_handler_in_process(stack):
    assert "docker" in inspect.getsource(moto_hooks.ORIGINALS["LambdaFunction._invoke_lambda"])
    resp = stack.client("lambda").invoke(
        FunctionName=stack.names.name("GetVisitFunction"),
        Payload=json.dumps(
            {
                "httpMethod": "GET",
                "path": "/visits/" + "0" * 32,
                "resource": "/visits/{visitId}",
                "pathParameters": {"visitId": "0" * 32},
                "requestContext": {},
            }
        ).encode(),
    )
    body = json.loads(resp["Payload"].read())
    assert body["statusCode"] == 404 and json.loads(body["body"])["error"] == "VisitNotFound"


def test_eventbridge_starts_state_machines(stack):
    original = inspect.getsource(moto_hooks.ORIGINALS["Rule.send_to_targets"])
    assert '"states"' not in original and "'states'" not in original, "moto delivers to Step Functions now"
    events = stack.client("events")
    events.put_rule(Name="canary", EventPattern=json.dumps({"source": ["canary.gallery"]}))
    role = stack.iam.role_arns["PipelineStateMachineUploadRole"]  # may start the pipeline
    events.put_targets(Rule="canary", Targets=[{"Id": "sm", "Arn": stack.state_machine_arn, "RoleArn": role}])
    try:
        before = {e["executionArn"] for e in stack.executions()}
        events.put_events(
            Entries=[
                {"Source": "canary.gallery", "DetailType": "x", "Detail": json.dumps({"object": {"key": "canary"}})}
            ]
        )
        deadline = time.time() + 10
        while time.time() < deadline and not ({e["executionArn"] for e in stack.executions()} - before):
            time.sleep(0.05)
        assert {e["executionArn"] for e in stack.executions()} - before
    finally:
        events.remove_targets(Rule="canary", Ids=["sm"])
        events.delete_rule(Name="canary")


def _task_tokens(stack, execution: str) -> list[str]:
    """The task tokens the execution has handed out so far, oldest first."""
    return [
        json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]["token"]
        for e in stack.history(execution)
        if e["type"] == "TaskScheduled"
    ]


def _waiting_execution(stack, name: str, **task_fields) -> tuple[str, str]:
    """(execution, token) of an execution whose task waits for a token nobody sends:
    ChoosePortrait answers and forgets it. It runs with the pipeline's role, which may invoke it."""
    sfn = stack.client("stepfunctions")
    visit = {"visitId": "c" * 32, "displayId": "1", "theme": "painting"}
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {
            "FunctionName": stack.names.arn("ChoosePortraitFunction"),
            "Payload": {"visit": visit, "token.$": "$$.Task.Token"},
        },
        "TimeoutSeconds": 60,
        "End": True,
        **task_fields,
    }
    machine = sfn.create_state_machine(
        name=f"{name}-{time.time_ns()}",
        roleArn=stack.role_of("PipelineStateMachine"),
        definition=json.dumps({"StartAt": "Wait", "States": {"Wait": task}}),
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name=name, input="{}")["executionArn"]
    deadline = time.time() + 15
    while time.time() < deadline:
        if any(e["type"] == "TaskSubmitted" for e in stack.history(execution)):
            return execution, _task_tokens(stack, execution)[0]
        time.sleep(0.05)
    described = sfn.describe_execution(executionArn=execution)
    raise AssertionError((described["status"], described.get("error"), described.get("cause")))


def test_send_task_failure_keeps_its_cause(stack):
    source = inspect.getsource(moto_hooks.ORIGINALS["StepFunctionResponse.send_task_failure"])
    assert "cause" not in source, "moto passes the cause now: the hook can go"
    execution, token = _waiting_execution(stack, "canary-cause")
    stack.client("stepfunctions").send_task_failure(taskToken=token, error="Named", cause="readable cause")
    result = stack.wait_execution(execution, 15)
    assert result["status"] == "FAILED" and result["error"] == "Named" and result["cause"] == "readable cause"


def test_a_retried_wait_for_task_token_gets_a_fresh_token(stack):
    assert "update_task_token" not in inspect.getsource(
        moto_hooks.ORIGINALS["StateTaskServiceCallback._evaluate_with_timeout"]
    )
    execution, first = _waiting_execution(
        stack,
        "canary-retry",
        TimeoutSeconds=1,
        Retry=[{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 1}],
    )
    # The first attempt is never answered and times out; the retried attempt waits on its own token.
    deadline = time.time() + 15
    while time.time() < deadline and len(_task_tokens(stack, execution)) < 2:
        time.sleep(0.05)
    second = _task_tokens(stack, execution)[1]
    assert second != first
    stack.client("stepfunctions").send_task_success(taskToken=second, output='{"ok": true}')
    assert stack.wait_execution(execution, 15)["status"] == "SUCCEEDED"


def test_callbacks_skip_executions_that_are_still_starting():
    source = inspect.getsource(moto_hooks.ORIGINALS["StepFunctionsParserBackend._get_executions"])
    assert "exec_worker" not in source, "moto filters unstarted executions itself now: the hook can go"
    assert (
        "execution_status"
        in inspect.signature(moto_hooks.ORIGINALS["StepFunctionsParserBackend._get_executions"]).parameters
    )


def test_the_interpreter_reuses_its_service_clients(stack):
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_dynamodb

    # moto must still import the factory by name into these modules, or the hook does nothing.
    assert lambda_eval_utils.boto_client_for is moto_hooks._cached_boto_client_for
    assert state_task_service_dynamodb.boto_client_for is moto_hooks._cached_boto_client_for
    assert {key[1] for key in moto_hooks._sfn_clients} >= {"lambda"}


def test_rekognition_detect_faces_uses_the_face_engine(stack):
    assert moto_hooks.ORIGINALS["RekognitionResponse.detect_faces"] is None, "moto answers DetectFaces now"
    from PIL import Image

    from gallery_local.demo import DEMO

    photo = (DEMO / "photos" / "visitor-a.jpg").read_bytes()
    faces = stack.client("rekognition").detect_faces(Image={"Bytes": photo}, Attributes=["ALL"])["FaceDetails"]
    assert len(faces) == 1
    face = faces[0]
    box = face["BoundingBox"]
    assert 0 < box["Left"] < 1 and 0 < box["Top"] < 1 and 0.1 < box["Width"] < 1 and 0.1 < box["Height"] < 1
    assert {lm["Type"] for lm in face["Landmarks"]} >= {"eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight"}
    assert all(0 <= lm["X"] <= 1 and 0 <= lm["Y"] <= 1 for lm in face["Landmarks"])
    assert set(face["Pose"]) == {"Roll", "Yaw", "Pitch"} and set(face["Quality"]) >= {"Brightness", "Sharpness"}
    assert 0 < face["Confidence"] <= 100
    blank = jpeg(Image.new("RGB", (400, 300), (200, 200, 200)))
    assert stack.client("rekognition").detect_faces(Image={"Bytes": blank})["FaceDetails"] == []
    with pytest.raises(stack.client("rekognition").exceptions.InvalidImageFormatException):
        stack.client("rekognition").detect_faces(Image={"Bytes": b"not an image at all"})


def test_sagemaker_async_goes_to_the_local_endpoint(stack):
    # moto's own answer is canned data from its backend, never the model.
    original = inspect.getsource(moto_hooks.ORIGINALS["SageMakerRuntimeResponse.invoke_endpoint_async"])
    assert "sagemakerruntime_backend.invoke_endpoint_async" in original
    stack.endpoints.inject(stack.swap_endpoint, HANG)
    resp = stack.client("sagemaker-runtime").invoke_endpoint_async(
        EndpointName=stack.swap_endpoint,
        InputLocation=f"s3://{stack.bucket}/inference/in/canary.json",
        InferenceId="canary-inference",
    )
    assert resp["InferenceId"] == "canary-inference"
    assert resp["OutputLocation"] == f"s3://{stack.bucket}/inference/out/swap/canary-inference.out"
    assert stack.endpoints.invocations[-1] == {
        "endpoint": stack.swap_endpoint,
        "inferenceId": "canary-inference",
        "fault": HANG,
    }


def test_the_server_resolves_each_host_to_a_backend_once(stack):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = inspect.getsource(moto_hooks.ORIGINALS["DomainDispatcherApplication.get_backend_for_host"])
    assert "list_of_moto_modules" in original, "moto no longer lists its modules per request: the hook can go"
    assert DomainDispatcherApplication.get_backend_for_host is moto_hooks._get_backend_for_host
    stack.client("s3").list_buckets()
    assert moto_hooks._backend_for_host  # filled by real requests


def _attempts_of(function_name: str, since: int) -> list[tuple[str, str, bool]]:
    return [a for a in list(moto_hooks.ASYNC_ATTEMPTS)[since:] if a[0] == function_name]


def test_sns_to_lambda_is_asynchronous_and_retried(stack):
    source = inspect.getsource(moto_hooks.ORIGINALS["LambdaBackend.send_sns_message"])
    assert "func.invoke(" in source and "retr" not in source, "moto retries SNS deliveries now: the hook can go"
    callback, since = stack.names.name("InferenceCallbackFunction"), len(moto_hooks.ASYNC_ATTEMPTS)
    # Not JSON: the callback fails on every attempt, and Lambda tries it three times in all.
    stack.client("sns").publish(TopicArn=stack.names.arn("InferenceErrorTopic"), Message="not json")
    deadline = time.time() + 20
    while time.time() < deadline and len(_attempts_of(callback, since)) < 3:
        time.sleep(0.1)
    attempts = _attempts_of(callback, since)
    assert len(attempts) == 3 and all(errored for *_, errored in attempts)
    assert len({event for _, event, _ in attempts}) == 1  # one event, retried


def test_sns_can_deliver_one_message_twice_at_once(stack):
    callback, since = stack.names.name("InferenceCallbackFunction"), len(moto_hooks.ASYNC_ATTEMPTS)
    moto_hooks.duplicate_sns_deliveries(1)
    stack.client("sns").publish(
        TopicArn=stack.names.arn("InferenceSuccessTopic"), Message=json.dumps({"inferenceId": "canary-unknown"})
    )
    deadline = time.time() + 10
    while time.time() < deadline and len(_attempts_of(callback, since)) < 2:
        time.sleep(0.05)
    attempts = _attempts_of(callback, since)
    assert len(attempts) == 2 and not any(errored for *_, errored in attempts)


def test_eventbridge_delivers_to_lambda_targets(stack):
    original = inspect.getsource(moto_hooks.ORIGINALS["Rule.send_to_targets"])
    assert '"lambda"' not in original and "NotImplementedError" in original, "moto invokes Lambda targets now"
    ended, since = stack.names.name("ExecutionEndedFunction"), len(moto_hooks.ASYNC_ATTEMPTS)
    events = stack.client("events")
    events.put_rule(Name="canary-lambda", EventPattern=json.dumps({"source": ["canary.lambda"]}))
    events.put_targets(Rule="canary-lambda", Targets=[{"Id": "fn", "Arn": stack.names.arn("ExecutionEndedFunction")}])
    try:
        entry = {"Source": "canary.lambda", "DetailType": "x", "Detail": json.dumps({"input": "{}"})}
        events.put_events(Entries=[entry])
        deadline = time.time() + 10
        while time.time() < deadline and not _attempts_of(ended, since):
            time.sleep(0.05)
        assert [errored for *_, errored in _attempts_of(ended, since)] == [False]
    finally:
        events.remove_targets(Rule="canary-lambda", Ids=["fn"])
        events.delete_rule(Name="canary-lambda")


def test_step_functions_emits_execution_status_change_events(stack):
    original = inspect.getsource(moto_hooks.ORIGINALS["BaseExecutionWorkerCommunication._reflect_execution_status"])
    assert "put_events" not in original, "moto emits status change events now: the hook can go"
    sqs, sfn, events = stack.client("sqs"), stack.client("stepfunctions"), stack.client("events")
    queue = sqs.create_queue(QueueName="canary-status")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    machine = sfn.create_state_machine(
        name="canary-status",
        roleArn=stack.role_of("PipelineStateMachine"),
        definition=json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Canary", "Cause": "why"}}}),
    )["stateMachineArn"]
    pattern = {
        "source": ["aws.states"],
        "detail-type": [moto_hooks.STATUS_CHANGE],
        "detail": {"status": ["FAILED"], "stateMachineArn": [machine]},
    }
    events.put_rule(Name="canary-status", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="canary-status", Targets=[{"Id": "q", "Arn": queue_arn}])
    try:
        execution = sfn.start_execution(stateMachineArn=machine, name=f"c-{time.time_ns()}", input='{"a": 1}')
        assert stack.wait_execution(execution["executionArn"], 15)["status"] == "FAILED"
        messages = []
        deadline = time.time() + 10
        while time.time() < deadline and not messages:
            messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])
        event = json.loads(messages[0]["Body"])
        assert event["source"] == "aws.states" and event["detail-type"] == "Step Functions Execution Status Change"
        detail = event["detail"]
        assert detail["executionArn"] == execution["executionArn"] and detail["stateMachineArn"] == machine
        assert detail["status"] == "FAILED" and detail["error"] == "Canary" and detail["cause"] == "why"
        assert json.loads(detail["input"]) == {"a": 1} and detail["stopDate"] >= detail["startDate"]
    finally:
        events.remove_targets(Rule="canary-status", Ids=["q"])
        events.delete_rule(Name="canary-status")


def test_send_task_success_can_be_throttled(stack):
    from botocore.config import Config

    assert "Throttl" not in inspect.getsource(moto_hooks.ORIGINALS["StepFunctionResponse.send_task_success"])
    sfn = stack.client("stepfunctions")
    once = boto3_client_without_retries(stack, "stepfunctions", Config)
    moto_hooks.throttle_send_task_success(1)
    with pytest.raises(sfn.exceptions.ClientError) as throttled:
        once.send_task_success(taskToken="canary-token", output="{}")
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
    # The switch is spent: moto answers as it always does (nobody waits for this token).
    with pytest.raises(sfn.exceptions.ClientError) as refused:
        once.send_task_success(taskToken="canary-token", output="{}")
    assert refused.value.response["Error"]["Code"] != "ThrottlingException"


def boto3_client_without_retries(stack, service: str, config_cls):
    import boto3

    return boto3.session.Session().client(
        service,
        endpoint_url=stack.endpoint,
        region_name=stack.client(service).meta.region_name,
        config=config_cls(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def test_dynamodb_updates_can_be_refused_for_one_principal(stack):
    import os

    table = stack.table("VisitsTable")
    moto_hooks.fail_dynamodb_updates(stack.names.name("VisitsTable"), os.environ["AWS_ACCESS_KEY_ID"], 1)
    key = {"visitId": "f" * 32}
    with pytest.raises(table.meta.client.exceptions.ClientError) as refused:
        table.update_item(Key=key, UpdateExpression="SET canary = :c", ExpressionAttributeValues={":c": 1})
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    table.update_item(Key=key, UpdateExpression="SET canary = :c", ExpressionAttributeValues={":c": 1})
    table.delete_item(Key=key)


def test_stop_execution_aborts_a_waiting_task(stack):
    original = inspect.getsource(moto_hooks.ORIGINALS["Environment.set_error"])
    assert "ProgramStopped" not in original, "moto keeps a stopped execution stopped now: the hook can go"
    execution, _ = _waiting_execution(stack, "canary-stop")
    stack.client("stepfunctions").stop_execution(executionArn=execution, error="Canary", cause="stopped")
    # Long before the task's own 60 s timeout.
    assert stack.wait_execution(execution, 15)["status"] == "ABORTED"


def test_a_task_token_answers_once(stack):
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    assert "_answered" not in inspect.getsource(StepFunctionsParserBackend.send_task_success)
    sfn = stack.client("stepfunctions")
    execution, token = _waiting_execution(stack, "canary-once")
    sfn.send_task_success(taskToken=token, output='{"first": true}')
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_success(taskToken=token, output='{"second": true}')
    with pytest.raises(sfn.exceptions.TaskTimedOut):
        sfn.send_task_failure(taskToken=token, error="Late", cause="too late")
    result = stack.wait_execution(execution, 15)
    assert result["status"] == "SUCCEEDED" and json.loads(result["output"]) == {"first": True}


# ---------------------------------------------------------------- IAM hooks


def test_moto_passes_star_as_the_resource_of_most_services(stack):
    for name in ("DynamoHandler", "SNSResponse", "StepFunctionResponse", "SageMakerRuntimeResponse", "LambdaResponse"):
        assert moto_hooks.ORIGINALS[f"{name}._determine_resource"] is None, f"moto now determines {name}'s resource"
    # With the hook, a role scoped to one table reads it (moto alone would refuse it).
    claim = stack.iam.credentials(stack.iam.role_arns["ClaimVisitFunctionRole"])
    import boto3

    from gallery_local.iam_local import session_credentials

    ddb = boto3.session.Session(**session_credentials(claim)).client(
        "dynamodb", endpoint_url=stack.endpoint, region_name="us-east-1"
    )
    ddb.get_item(TableName=stack.names.name("VisitsTable"), Key={"visitId": {"S": "0" * 32}})


def test_moto_names_actions_after_operations(stack):
    source = inspect.getsource(moto_hooks.ORIGINALS["IAMRequestBase.check_action_permitted"])
    assert "_IAM_ACTION" not in source and "InvokeFunction" not in source
    assert moto_iam_hooks._IAM_ACTION_NAMES["lambda:Invoke"] == "lambda:InvokeFunction"


def test_moto_signs_an_empty_body_as_its_parameters():
    source = inspect.getsource(moto_hooks.ORIGINALS["IAMRequest._create_aws_request"])
    assert "self._body or self._data" in source, "moto changed how it rebuilds the signed request"


def test_moto_answers_refusals_in_xml(stack):
    assert "AccessDeniedError(" in inspect.getsource(moto_hooks.ORIGINALS["IAMRequest._raise_access_denied"])
    source = inspect.getsource(moto_hooks.ORIGINALS["IAMRequest._raise_invalid_access_key"])
    assert "InvalidClientTokenIdError(" in source
    # JSON services answer in JSON, so botocore reads the error code a handler catches.
    import boto3
    from botocore.exceptions import ClientError

    from gallery_local.iam_local import session_credentials

    creds = stack.iam.credentials(stack.iam.role_arns["ClaimVisitFunctionRole"])
    sfn = boto3.session.Session(**session_credentials(creds)).client(
        "stepfunctions", endpoint_url=stack.endpoint, region_name="us-east-1"
    )
    with pytest.raises(ClientError) as refused:
        sfn.list_state_machines()
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"


def test_moto_authorises_s3_only_from_the_authorization_header(stack):
    source = inspect.getsource(moto_hooks.ORIGINALS["S3Response._authenticate_and_authorize_s3_action"])
    assert "X-Amz-Credential" not in source and "policy" not in source.lower()
    key = "results/canary.png"
    stack.client("s3").put_object(Bucket=stack.bucket, Key=key, Body=b"x")
    url = stack.client("s3").generate_presigned_url("get_object", Params={"Bucket": stack.bucket, "Key": key})
    import requests

    assert requests.get(url, timeout=10).content == b"x"


def _drain(stack, logical_id: str, timeout: float = 20, expect: int = 1) -> list[dict]:
    """Wait for `expect` messages in one of the template's queues; return them all, deleted."""
    sqs, url = stack.client("sqs"), stack.names.ref(logical_id)
    got: list[dict] = []
    deadline = time.time() + timeout
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        for m in batch.get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            got.append(m)
        if (len(got) >= expect and not batch.get("Messages")) or time.time() > deadline:
            return got
        time.sleep(0.1)


def test_a_failed_async_event_goes_to_the_on_failure_destination(stack):
    from moto.awslambda.models import LambdaFunction

    assert "event_invoke_config" not in inspect.getsource(LambdaFunction.invoke), "moto acts on destinations now"
    _drain(stack, "InferenceCallbackDeadLetterQueue", timeout=5, expect=0)
    stack.client("sns").publish(TopicArn=stack.names.arn("InferenceErrorTopic"), Message="not json")
    (message,) = _drain(stack, "InferenceCallbackDeadLetterQueue")
    record = json.loads(message["Body"])
    assert set(record) >= {"requestContext", "requestPayload", "responseContext", "responsePayload"}
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"].endswith("InferenceCallbackFunction:$LATEST")
    assert record["requestPayload"]["Records"][0]["Sns"]["Message"] == "not json"
    assert record["responseContext"]["functionError"] == "Unhandled" and record["responsePayload"]["errorType"]


def test_an_undeliverable_event_goes_to_the_targets_dead_letter_queue(stack):
    original = inspect.getsource(moto_hooks.ORIGINALS["Rule.send_to_targets"])
    assert "DeadLetterConfig" not in original, "moto sends to a target's dead-letter queue now"
    events = stack.client("events")
    dlq = stack.names.get_att("UploadDeadLetterQueue", "Arn")
    events.put_rule(Name="canary-dlq", EventPattern=json.dumps({"source": ["canary.dlq"]}))
    # A role that may not start the pipeline: the ExecutionEnded function's.
    role = stack.iam.role_arns["ExecutionEndedFunctionRole"]
    target = {"Id": "sm", "Arn": stack.state_machine_arn, "RoleArn": role, "DeadLetterConfig": {"Arn": dlq}}
    events.put_targets(Rule="canary-dlq", Targets=[target])
    _drain(stack, "UploadDeadLetterQueue", timeout=5, expect=0)
    try:
        events.put_events(Entries=[{"Source": "canary.dlq", "DetailType": "x", "Detail": json.dumps({"n": 1})}])
        (message,) = _drain(stack, "UploadDeadLetterQueue")
    finally:
        events.remove_targets(Rule="canary-dlq", Ids=["sm"])
        events.delete_rule(Name="canary-dlq")
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "NO_PERMISSIONS" and attributes["TARGET_ARN"] == stack.state_machine_arn
    assert attributes["RULE_ARN"].endswith(":rule/canary-dlq")
    assert json.loads(message["Body"])["detail"] == {"n": 1}


def test_s3_copies_can_be_slowed(stack):
    original = inspect.getsource(moto_hooks.ORIGINALS["S3Response.copy_object"])
    assert "x-amz-copy-source" in original, "moto's CopyObject moved: the slow-copy hook needs a new place"
    s3, key = stack.client("s3"), "inference/canary-copy"
    s3.put_object(Bucket=stack.bucket, Key=key, Body=b"x")
    moto_hooks.slow_s3_copies(0.6, 1)
    began = time.time()
    s3.copy_object(Bucket=stack.bucket, Key=key + "-2", CopySource={"Bucket": stack.bucket, "Key": key})
    assert time.time() - began >= 0.6
    began = time.time()
    s3.copy_object(Bucket=stack.bucket, Key=key + "-3", CopySource={"Bucket": stack.bucket, "Key": key})
    assert time.time() - began < 0.6  # once only
    s3.delete_objects(Bucket=stack.bucket, Delete={"Objects": [{"Key": key + s} for s in ("", "-2", "-3")]})
