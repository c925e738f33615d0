"""Nothing lost: what an asynchronous hop cannot deliver lands in its dead-letter queue on the
local stack, exactly as much as should be redriven, and `gallery dlq redrive` sends it back.

- The inference callback failing all three attempts (its role loses dynamodb:GetItem on the
  visits table): one destination record per notification it could not handle, and the visit
  still ends FAILED when its waiting task times out.
- The upload rule's role without states:StartExecution: the upload event waits in the rule
  target's dead-letter queue, and a redrive after the role is fixed runs the visit to DONE."""

from __future__ import annotations

import io
import json

from gallery_local import dlq_cli, moto_hooks
from gallery_local.demo import DEMO
from gallery_local.tablet import Tablet
from tests.e2e.conftest import until
from tests.e2e.test_iam import grants, without_statement

VISITOR = (DEMO / "photos" / "visitor-a.jpg").read_bytes()


def peek(stack, logical_id: str) -> list[dict]:
    """Every message of a queue, left in it (made visible again at once)."""
    sqs, url = stack.client("sqs"), stack.names.ref(logical_id)
    seen: list[dict] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=5, MessageAttributeNames=["All"]
    ).get("Messages", []):
        seen.extend(batch)
    for m in seen:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    return seen


def empty_queues(stack) -> None:
    """What earlier tests left (SQS allows one PurgeQueue a minute, so delete one by one)."""
    sqs = stack.client("sqs")
    for logical in ("UploadDeadLetterQueue", "InferenceCallbackDeadLetterQueue", "ExecutionEndedDeadLetterQueue"):
        url = stack.names.ref(logical)
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for m in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def visit_item(stack, visit_id: str) -> dict:
    return stack.table("VisitsTable").get_item(Key={"visitId": visit_id}, ConsistentRead=True).get("Item") or {}


def test_a_callback_that_fails_every_attempt_leaves_its_notifications_to_redrive(stack):
    empty_queues(stack)
    target = dlq_cli.local_target(stack)
    callback = stack.names.name("InferenceCallbackFunction")
    with without_statement(stack, "InferenceCallbackFunctionRole", grants("dynamodb:GetItem", "VisitsTable")):
        tablet = Tablet(stack, 4)
        code, created = tablet.start_visit("painting")
        assert code == 201 and tablet.upload(created, VISITOR).status_code == 204
        visit_id = created["visitId"]
        # SwapFace waits 12 s for each of its two attempts (Retry on States.Timeout), then fails.
        final = until(lambda: visit_item(stack, visit_id).get("status") in ("DONE", "FAILED", "REJECTED"), 90)
        assert final, visit_item(stack, visit_id)
        # The last notification's third attempt may still be running when the visit ends.
        until(lambda: len(peek(stack, "InferenceCallbackDeadLetterQueue")) >= 2, 15)
    stored = visit_item(stack, visit_id)
    assert stored["status"] == "FAILED" and "Timeout" in json.dumps(stored, default=str)
    records = [json.loads(m["Body"]) for m in peek(stack, "InferenceCallbackDeadLetterQueue")]
    # One record per inference the engine answered and the callback could not handle: the
    # first attempt and its retry. Nothing else in any queue.
    assert len(records) == 2
    inference_ids = {json.loads(r["requestPayload"]["Records"][0]["Sns"]["Message"])["inferenceId"] for r in records}
    assert len(inference_ids) == 2
    for r in records:
        assert r["requestContext"]["condition"] == "RetriesExhausted"
        assert r["requestContext"]["approximateInvokeCount"] == 3
        assert r["requestContext"]["functionArn"].endswith(f"{callback}:$LATEST")
        assert "AccessDenied" in json.dumps(r["responsePayload"])
    assert peek(stack, "UploadDeadLetterQueue") == [] and peek(stack, "ExecutionEndedDeadLetterQueue") == []

    # Permission back: each record is invoked again (accepted), and the queue is empty. The
    # callback now finds the visit ended and answers nothing.
    since = len(moto_hooks.CALLS)
    out = io.StringIO()
    (result,) = dlq_cli.redrive(target, "InferenceCallback", out=out)
    assert len(result.sent) == 2 and result.kept == [], out.getvalue()
    assert peek(stack, "InferenceCallbackDeadLetterQueue") == []
    # moto runs an InvocationType=Event invoke within the request; CALLS holds completed runs.
    assert until(lambda: len([c for c in list(moto_hooks.CALLS)[since:] if c[0] == callback]) >= 2, 20)
    assert visit_item(stack, visit_id)["status"] == "FAILED"


def test_an_upload_the_rule_cannot_start_waits_in_its_dead_letter_queue(stack):
    empty_queues(stack)
    target = dlq_cli.local_target(stack)
    tablet = Tablet(stack, 5)
    before = {e["executionArn"] for e in stack.executions()}
    with without_statement(stack, "PipelineStateMachineUploadRole", grants("states:StartExecution")):
        code, created = tablet.start_visit("painting")
        assert code == 201 and tablet.upload(created, VISITOR).status_code == 204
        assert until(lambda: peek(stack, "UploadDeadLetterQueue"), 10)
    assert {e["executionArn"] for e in stack.executions()} == before
    (message,) = peek(stack, "UploadDeadLetterQueue")
    event = json.loads(message["Body"])
    assert event["detail-type"] == "Object Created" and event["detail"]["object"]["key"].endswith(
        f"{created['visitId']}.jpg"
    )
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "NO_PERMISSIONS"
    assert attributes["TARGET_ARN"] == stack.state_machine_arn
    assert attributes["RULE_ARN"].endswith(f"rule/{stack.names.name('PipelineStateMachine')}-Upload")
    assert peek(stack, "InferenceCallbackDeadLetterQueue") == [] and peek(stack, "ExecutionEndedDeadLetterQueue") == []
    assert visit_item(stack, created["visitId"])["status"] == "WAITING_FOR_PHOTO"

    out = io.StringIO()
    depths = dlq_cli.list_queues(target, out=out)
    assert {d.queue: d.messages for d in depths} == {
        "Upload": 1,
        "InferenceCallback": 0,
        "ExecutionEnded": 0,
        "Operations": 0,
    }
    assert "Upload" in out.getvalue()
    (result,) = dlq_cli.redrive(target, "Upload", out=out)
    assert len(result.sent) == 1 and result.kept == [], out.getvalue()
    assert peek(stack, "UploadDeadLetterQueue") == []
    final = until(lambda: visit_item(stack, created["visitId"]).get("status") in ("DONE", "FAILED", "REJECTED"), 90)
    assert final and visit_item(stack, created["visitId"])["status"] == "DONE"
    assert all(peek(stack, q) == [] for q in ("UploadDeadLetterQueue", "InferenceCallbackDeadLetterQueue"))
