"""Faults on the way of a visit, end to end on the local stack: each ends in a named
final state, nothing is lost, and the next visitor is unaffected. The other faults have their
tests beside the code they exercise: a killed engine and a cold endpoint in
test_cold_endpoints.py, a callback delivered twice at once in test_stuck_visits.py, the sweeper
in test_sweeper.py, dead letters in test_dead_letters.py."""

from __future__ import annotations

from gallery import keys as keys_module
from gallery_local import moto_hooks
from gallery_local.demo import DEMO
from gallery_local.tablet import Tablet
from tests.e2e.conftest import state_names

VISITOR = (DEMO / "photos" / "visitor-d.jpg").read_bytes()


def visit_item(stack, visit_id: str) -> dict:
    return stack.table("VisitsTable").get_item(Key={"visitId": visit_id}, ConsistentRead=True)["Item"]


def leftovers(stack, visit_id: str) -> list[str]:
    """The engine's requests and outputs of the visit still in the bucket: each callback removes
    its own once the task has it. (The swapped image, the restore's input, stays for the day.)"""
    s3 = stack.client("s3")
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix=keys_module.INFERENCE):
        keys += [o["Key"] for o in page.get("Contents", []) if visit_id in o["Key"]]
    return [k for k in keys if not k.startswith(keys_module.SWAPS)]


def test_dynamodb_throttling_the_visit_update_once_is_retried(stack):
    role = stack.role_of("PipelineStateMachine")
    key = stack.iam.credentials(role)["AWS_ACCESS_KEY_ID"]
    moto_hooks.fail_dynamodb_updates(
        stack.names.name("VisitsTable"), key, 1, code="ProvisionedThroughputExceededException"
    )
    visit = Tablet(stack, 4).visit(VISITOR, "painting")
    assert visit.status == "DONE", visit.view
    arn = visit_item(stack, visit.visit_id)["executionArn"]
    assert stack.wait_execution(arn)["status"] == "SUCCEEDED"
    history = stack.history(arn)
    failed = [e["taskFailedEventDetails"]["error"] for e in history if "taskFailedEventDetails" in e]
    assert failed == ["DynamoDB.ProvisionedThroughputExceededException"]  # SaveResult, once, then retried
    assert state_names(stack, arn).count("SaveResult") == 1 and state_names(stack, arn)[-1] == "Done"
    assert Tablet(stack, 4).visit(VISITOR, "travel").status == "DONE"  # the next visitor


def test_a_slack_webhook_answering_500_leaves_the_visit_done(stack):
    stack.slack.down, stack.slack.down_status = True, 500
    before = len(stack.slack.texts())
    visit = Tablet(stack, 5).visit(VISITOR, "realistic")
    assert visit.status == "DONE", visit.view
    arn = visit_item(stack, visit.visit_id)["executionArn"]
    assert stack.wait_execution(arn)["status"] == "SUCCEEDED"
    names = state_names(stack, arn)
    assert "NotifySlackSkipped" in names and names[-1] == "Done"
    assert len(stack.slack.texts()) == before  # nothing reached Slack, and nothing was lost
    assert stack.appsync.published("5")[-1]["status"] == "DONE"  # the wall was told anyway
    stack.slack.down = False
    after = Tablet(stack, 5).visit(VISITOR, "travel")
    assert after.status == "DONE", after.view
    # Slack is told after the tablet sees DONE: count its posts once the execution has ended.
    assert stack.wait_execution(visit_item(stack, after.visit_id)["executionArn"])["status"] == "SUCCEEDED"
    assert len(stack.slack.texts()) == before + 1


def test_s3_slowing_down_on_the_result_copy_still_ends_done_once(stack):
    delays_before = len(moto_hooks.COPY_DELAYS)
    # The callbacks copy the engine's outputs; 4 s each on the first two copies (the swap's
    # and the restore's), well inside the 12 s callback timeout of the tests' stack.
    moto_hooks.slow_s3_copies(4.0, 2)
    visit = Tablet(stack, 6).visit(VISITOR, "animation", timeout=120)
    assert visit.status == "DONE", visit.view
    assert len(moto_hooks.COPY_DELAYS) - delays_before >= 1  # the slowdown really happened
    stored = visit_item(stack, visit.visit_id)
    assert stack.wait_execution(stored["executionArn"])["status"] == "SUCCEEDED"
    names = state_names(stack, stored["executionArn"])
    assert names.count("SwapFace") == 1 and names.count("RestoreFace") == 1  # no retry was needed
    assert stored["resultKey"] == f"results/{visit.visit_id}.png"
    assert leftovers(stack, visit.visit_id) == []
