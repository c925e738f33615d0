"""No visit stuck, no callback lost: each path that used to leave a visit PROCESSING until its
TTL, or a result behind, ends in a named final state on the local stack.

Faults are injected where AWS would produce them: a catalog item without a story, a role that
cannot write the visit, a throttled SendTaskSuccess, SNS delivering a message twice at once, a
late notification for a deleted visit, an execution that ends with nothing recorded, an
execution stopped from outside."""

from __future__ import annotations

import json
import time

from boto3.dynamodb.conditions import Key

from gallery import skin_tone
from gallery_local import moto_hooks
from gallery_local.demo import DEMO
from gallery_local.sagemaker_local import ERROR, HANG
from gallery_local.tablet import Tablet
from tests.e2e.conftest import state_names, until

VISITOR = (DEMO / "photos" / "visitor-a.jpg").read_bytes()
FINAL = ("DONE", "REJECTED", "FAILED")


def objects(stack, prefix: str) -> list[str]:
    resp = stack.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix=prefix)
    return [o["Key"] for o in resp.get("Contents", [])]


def item(stack, visit_id: str) -> dict | None:
    return stack.table("VisitsTable").get_item(Key={"visitId": visit_id}, ConsistentRead=True).get("Item")


def start(stack, display: int, theme: str = "painting") -> tuple[Tablet, dict]:
    """Create a visit and upload its photo; return without waiting for the outcome."""
    tablet = Tablet(stack, display)
    code, created = tablet.start_visit(theme)
    assert code == 201, created
    assert tablet.upload(created, VISITOR).status_code < 300
    return tablet, created


def visit_to_end(stack, display: int, theme: str = "painting", timeout: float = 150) -> dict:
    """A whole visit; returns its item once it is final (the tablet's own polling is tested
    elsewhere)."""
    _, created = start(stack, display, theme)
    visit_id = created["visitId"]
    stored = until(lambda: (lambda v: v if v and v.get("status") in FINAL else None)(item(stack, visit_id)), timeout)
    assert stored, item(stack, visit_id)
    stack.wait_execution(stored["executionArn"], 60)  # the display and Slack are told after
    return stored


def waiting_swap(stack, visit_id: str) -> str:
    """The inference id of the visit's swap once its task waits for the callback."""
    tokens = stack.table("TokensTable")
    found = until(
        lambda: [
            t["inferenceId"] for t in tokens.scan()["Items"] if t.get("visitId") == visit_id and t.get("task") == "swap"
        ],
        timeout=60,
    )
    assert found, "the swap never started"
    return found[0]


def final_execution(stack, visit_id: str) -> tuple[str, dict]:
    arn = until(lambda: (item(stack, visit_id) or {}).get("executionArn"))
    assert arn
    return arn, stack.wait_execution(arn, 120)


def test_a_portrait_without_title_or_story_still_makes_a_portrait(stack):
    catalog = stack.table("CatalogTable")
    theme = "travel"
    approved = [
        i
        for i in catalog.query(KeyConditionExpression=Key("theme").eq(theme))["Items"]
        if i.get("status") == "APPROVED"
    ]
    bare = {"theme": theme, "portraitId": "zz-untitled", "key": approved[0]["key"], "status": "APPROVED"}
    catalog.put_item(Item=bare)
    # Only the bare item can be chosen while the others are retired.
    for i in approved:
        catalog.update_item(
            Key={"theme": theme, "portraitId": i["portraitId"]},
            UpdateExpression="SET #s = :r",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":r": "RETIRED"},
        )
    try:
        stored = visit_to_end(stack, 2, theme)
    finally:
        catalog.delete_item(Key={"theme": theme, "portraitId": "zz-untitled"})
        for i in approved:
            catalog.put_item(Item=i)
    assert stored["status"] == "DONE", stored
    visit_id = stored["visitId"]
    assert stored["portraitId"] == "zz-untitled"
    assert stored["title"] == "" and stored["story"] == ""
    assert objects(stack, f"results/{visit_id}") == [f"results/{visit_id}.png"]
    names = state_names(stack, stored["executionArn"])
    assert "PortraitChosen" in names and names[-1] == "Done"


def test_gender_and_age_stay_out_of_execution_history(stack):
    # Pin what DetectFaces answers (AgeRange and Gender on every face, as Rekognition does) for
    # this visit, so the expected traits do not depend on the local engine's estimates.
    engine, read_s3 = moto_hooks._face_detector, moto_hooks._s3_reader

    def with_guesses(data: bytes) -> list[dict]:
        return [
            {**face, "AgeRange": {"Low": 29, "High": 37}, "Gender": {"Value": "Female", "Confidence": 99.1}}
            for face in engine(data)
        ]

    moto_hooks.set_face_detector(with_guesses, read_s3)
    try:
        stored = visit_to_end(stack, 3)
    finally:
        moto_hooks.set_face_detector(engine, read_s3)
    assert stored["status"] == "DONE", stored
    # Matching had them: the visit item keeps the gender and a band, not the estimated ages.
    traits = dict(stored["faceTraits"])
    assert traits.pop("skinTone") in skin_tone.GROUPS  # measured from the crop's pixels
    assert traits == {"gender": "female", "ageBand": "young"}
    # How the portrait matched would tell the visitor's traits too: it stays on the item.
    assert stored["match"]["rung"] and stored["match"]["gender"] == "female"
    history = json.dumps(stack.history(stored["executionArn"]), default=str).lower()
    assert "cropface" in history  # the history is really there
    for word in ("gender", "female", "agerange", "ageband", "facetraits", "skintone", '"rung"', '"match"'):
        assert word not in history, word


def test_mark_failed_that_cannot_write_still_ends_the_visit_failed(stack):
    # The swap fails for good, so the visit goes to MarkFailed; its role cannot update the visit.
    stack.endpoints.inject(stack.swap_endpoint, ERROR, ERROR, ERROR)
    role = stack.role_of("RecordOutcomeFunction")
    moto_hooks.fail_dynamodb_updates(
        stack.names.name("VisitsTable"), stack.iam.credentials(role)["AWS_ACCESS_KEY_ID"], 1000
    )
    slack_before = len(stack.slack.texts())
    _, created = start(stack, 4)
    visit_id = created["visitId"]
    arn, result = final_execution(stack, visit_id)
    assert result["status"] == "FAILED"
    names = state_names(stack, arn)
    assert names[-2:] == ["RecordFailedFallback", "Failed"]
    assert names.count("MarkFailed") == 1
    events = stack.history(arn)
    # MarkFailed was retried before the last resort: its handler failed three times.
    refused = [
        e for e in events if e["type"] == "TaskFailed" and e["taskFailedEventDetails"].get("error") == "ClientError"
    ]
    assert len(refused) == 3
    stored = item(stack, visit_id)
    assert stored["status"] == "FAILED" and stored["reason"] == "InferenceFailed"
    assert stored["message"] and "could not be recorded" in stored["cause"]
    # The execution-ended rule sends the alert the last-resort write could not, once.
    alerts = until(lambda: [t for t in stack.slack.texts()[slack_before:] if visit_id in t], timeout=30)
    assert alerts and "FAILED" in alerts[0]
    assert until(lambda: "alertPending" not in item(stack, visit_id), timeout=30)
    time.sleep(1)
    assert len([t for t in stack.slack.texts()[slack_before:] if visit_id in t]) == 1


def test_a_throttled_send_task_success_still_ends_done_with_one_result(stack):
    # Throttle every attempt of one whole delivery (the SDK retries a throttled call itself), so
    # the callback fails and Lambda's retry of the SNS event has to answer the task.
    callback = stack.names.name("InferenceCallbackFunction")
    attempts_before = len(moto_hooks.ASYNC_ATTEMPTS)
    moto_hooks.throttle_send_task_success(5)
    stored = visit_to_end(stack, 5)
    assert stored["status"] == "DONE", stored
    visit_id = stored["visitId"]
    assert len(moto_hooks.THROTTLED) >= 5
    attempts = [a for a in list(moto_hooks.ASYNC_ATTEMPTS)[attempts_before:] if a[0] == callback]
    failed = {event for _, event, errored in attempts if errored}
    assert failed, "no callback delivery met the throttling"
    # The failed delivery was tried again and that attempt succeeded.
    assert any(event in failed and not errored for _, event, errored in attempts)
    assert stored["resultKey"] == f"results/{visit_id}.png"
    assert objects(stack, f"results/{visit_id}") == [stored["resultKey"]]
    # Nothing of the inferences is left behind: outputs, requests and tokens are cleaned up.
    assert until(lambda: not [k for k in objects(stack, "inference/out/") if visit_id in k], timeout=10)
    assert [k for k in objects(stack, "inference/in/") if visit_id in k] == []
    assert [t for t in stack.table("TokensTable").scan()["Items"] if t["visitId"] == visit_id] == []
    assert state_names(stack, stored["executionArn"])[-1] == "Done"


def test_the_same_notification_twice_at_once_gives_one_result(stack):
    callback = stack.names.name("InferenceCallbackFunction")
    attempts_before = len(moto_hooks.ASYNC_ATTEMPTS)
    moto_hooks.duplicate_sns_deliveries(2)  # the swap's and the restore's notification
    stored = visit_to_end(stack, 6, "realistic")
    assert stored["status"] == "DONE", stored
    visit_id = stored["visitId"]
    attempts = [a for a in list(moto_hooks.ASYNC_ATTEMPTS)[attempts_before:] if a[0] == callback]
    assert len(attempts) >= 4 and not any(errored for *_, errored in attempts)  # every delivery succeeded
    events = stack.history(stored["executionArn"])
    answers = [
        e
        for e in events
        if e["type"] == "TaskSucceeded" and e["taskSucceededEventDetails"]["resource"].endswith("waitForTaskToken")
    ]
    assert len(answers) == 2  # one answer for the swap, one for the restore
    assert objects(stack, f"results/{visit_id}") == [f"results/{visit_id}.png"]
    assert objects(stack, f"inference/swaps/{visit_id}") == [f"inference/swaps/{visit_id}.png"]
    assert until(lambda: not [k for k in objects(stack, "inference/out/") if visit_id in k], timeout=10)
    assert state_names(stack, stored["executionArn"])[-1] == "Done"


def test_a_callback_after_the_visit_was_deleted_writes_nothing(stack):
    stack.endpoints.inject(stack.swap_endpoint, HANG)
    _, created = start(stack, 7)
    visit_id = created["visitId"]
    inference_id = waiting_swap(stack, visit_id)
    arn = item(stack, visit_id)["executionArn"]
    # The visitor deletes the visit (the item goes first) while the swap is still running ...
    stack.table("VisitsTable").delete_item(Key={"visitId": visit_id})
    # ... and then the endpoint's success notification arrives.
    output = f"inference/out/swap/{inference_id}.out"
    stack.client("s3").put_object(Bucket=stack.bucket, Key=output, Body=b"\x89PNG late", ContentType="image/png")
    topic = stack.names.arn("InferenceSuccessTopic")
    stack.client("sns").publish(
        TopicArn=topic,
        Message=json.dumps(
            {
                "inferenceId": inference_id,
                "invocationStatus": "Completed",
                "eventSource": "aws:sagemaker",
                "eventName": "InferenceResult",
                "requestParameters": {"endpointName": stack.swap_endpoint},
                "responseParameters": {"contentType": "image/png", "outputLocation": f"s3://{stack.bucket}/{output}"},
            }
        ),
    )
    result = stack.wait_execution(arn, 60)
    assert result["status"] == "FAILED"
    names = state_names(stack, arn)
    assert names[-1] == "Failed" and "SaveResult" not in names, names
    failed = [e["taskFailedEventDetails"] for e in stack.history(arn) if e["type"] == "TaskFailed"]
    assert failed and failed[0]["error"] == "VisitGone", failed
    assert item(stack, visit_id) is None  # the item stays gone
    assert objects(stack, f"results/{visit_id}") == []
    assert objects(stack, f"inference/swaps/{visit_id}") == []
    assert objects(stack, output) == []  # the late output is not kept either


def test_an_execution_that_ends_without_a_record_fails_the_visit_through_the_rule(stack):
    # Neither MarkFailed nor the last-resort write can update the visit (say, DynamoDB refuses
    # both roles): the execution ends in Failed with the visit still PROCESSING, and only the
    # "Execution Status Change" rule is left to end it.
    stack.endpoints.inject(stack.swap_endpoint, ERROR, ERROR, ERROR)
    table = stack.names.name("VisitsTable")
    for principal in ("RecordOutcomeFunction", "PipelineStateMachine"):
        key = stack.iam.credentials(stack.role_of(principal))["AWS_ACCESS_KEY_ID"]
        moto_hooks.fail_dynamodb_updates(table, key, 1000)
    slack_before = len(stack.slack.texts())
    _, created = start(stack, 8)
    visit_id = created["visitId"]
    arn, result = final_execution(stack, visit_id)
    assert result["status"] == "FAILED" and result["error"] == "VisitFailed"
    assert state_names(stack, arn)[-2:] == ["RecordFailedFallback", "Failed"]
    stored = until(lambda: (lambda v: v if v and v["status"] in FINAL else None)(item(stack, visit_id)), timeout=30)
    assert stored and stored["status"] == "FAILED"
    assert stored["reason"] == "VisitFailed" and stored["message"]
    alerts = until(lambda: [t for t in stack.slack.texts()[slack_before:] if visit_id in t], timeout=30)
    assert alerts and "FAILED" in alerts[0] and "VisitFailed" in alerts[0]


def test_an_execution_stopped_from_outside_fails_the_visit_and_alerts(stack):
    stack.endpoints.inject(stack.swap_endpoint, HANG)
    slack_before = len(stack.slack.texts())
    _, created = start(stack, 1)
    visit_id = created["visitId"]
    waiting_swap(stack, visit_id)
    arn = item(stack, visit_id)["executionArn"]
    stack.client("stepfunctions").stop_execution(executionArn=arn, error="Operator", cause="stopped by hand")
    assert stack.wait_execution(arn, 30)["status"] == "ABORTED"
    stored = until(lambda: (lambda v: v if v and v["status"] in FINAL else None)(item(stack, visit_id)), timeout=30)
    assert stored and stored["status"] == "FAILED" and stored["message"]
    assert stored["reason"] in ("Operator", "ExecutionAborted")  # moto drops StopExecution's error
    alerts = until(lambda: [t for t in stack.slack.texts()[slack_before:] if visit_id in t], timeout=30)
    assert alerts and "FAILED" in alerts[0]
