"""The stuck-visit sweeper on the local stack, invoked through Lambda with its own role (IAM
enforced): a visit whose photo never came and a visit whose execution hangs are made overdue
by writing their times back (the deadlines are the code's own, so no clock is faked), and the
sweeper ends each in its named FAILED state; the next visitor on the same display is served.

The local stack does not fire the sweeper's schedule (README: the local stack); these tests
are what invokes it."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

from gallery import sweeper, uploads
from gallery_local.sagemaker_local import HANG
from gallery_local.tablet import Tablet
from tests.e2e.test_stuck_visits import FINAL, VISITOR, item, start, until, waiting_swap


def sweep(stack) -> dict:
    """One scheduled run, as EventBridge's schedule would invoke it."""
    event = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": sweeper.iso(datetime.now(timezone.utc)),
        "resources": [],
        "detail": {},
    }
    resp = stack.client("lambda").invoke(
        FunctionName=stack.names.name("SweepStuckVisitsFunction"), Payload=json.dumps(event).encode()
    )
    payload = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, payload
    return payload


def backdate(stack, visit_id: str, seconds: float) -> None:
    """Move the visit's creation (and claim, if any) `seconds` into the past."""
    stored = item(stack, visit_id)
    sets, values = ["createdAt = :c"], {":c": _earlier(stored["createdAt"], seconds)}
    if "claimedAt" in stored:
        sets.append("claimedAt = :k")
        values[":k"] = _earlier(stored["claimedAt"], seconds)
    stack.table("VisitsTable").update_item(
        Key={"visitId": visit_id}, UpdateExpression="SET " + ", ".join(sets), ExpressionAttributeValues=values
    )


def _earlier(stamp: str, seconds: float) -> str:
    return sweeper.iso(sweeper.parse_iso(stamp) - timedelta(seconds=seconds))


def next_visitor_is_served(stack, display: int) -> None:
    tablet = Tablet(stack, display)
    visit = tablet.visit(VISITOR, "painting", timeout=150)
    assert visit.status == "DONE", visit
    stack.wait_execution(item(stack, visit.visit_id)["executionArn"], 60)
    assert until(lambda: stack.appsync.published_for(visit.visit_id), timeout=30)
    assert stack.appsync.published(str(display))[-1] == stack.appsync.published_for(visit.visit_id)[-1]


def test_a_visit_whose_photo_never_came_is_closed_quietly(stack):
    tablet = Tablet(stack, 2)
    code, created = tablet.start_visit("painting")
    assert code == 201, created
    visit_id = created["visitId"]
    slack_before = len(stack.slack.texts())
    # Still inside its upload window and margin: left alone.
    backdate(stack, visit_id, uploads.UPLOAD_SECONDS)
    assert visit_id not in sweep(stack)["abandoned"]
    assert item(stack, visit_id)["status"] == "WAITING_FOR_PHOTO"
    backdate(stack, visit_id, sweeper.UPLOAD_MARGIN_SECONDS + 1)
    assert visit_id in sweep(stack)["abandoned"]
    stored = item(stack, visit_id)
    assert stored["status"] == "FAILED" and stored["reason"] == sweeper.ABANDONED
    assert "upload window" in stored["cause"]
    # The tablet reads it as any final state; the wall and Slack are not told.
    assert tablet.status(visit_id)[1]["status"] == "FAILED"
    assert stack.appsync.published_for(visit_id) == []
    assert not [t for t in stack.slack.texts()[slack_before:] if visit_id in t]
    assert visit_id not in sweep(stack)["abandoned"]  # idempotent
    next_visitor_is_served(stack, 2)


def test_a_visit_whose_execution_hangs_is_failed_stopped_shown_and_alerted_once(stack):
    display = 4
    # Every attempt of this visit's swap hangs (the task's own timeout retries it).
    stack.endpoints.inject(stack.swap_endpoint, HANG, HANG, HANG, HANG)
    _, created = start(stack, display)
    visit_id = created["visitId"]
    waiting_swap(stack, visit_id)
    arn = item(stack, visit_id)["executionArn"]
    timeout = sweeper.execution_timeout(stack.client("stepfunctions"), stack.state_machine_arn)
    slack_before = len(stack.slack.texts())
    backdate(stack, visit_id, timeout + sweeper.PROCESSING_MARGIN_SECONDS + 1)
    result = sweep(stack)
    assert visit_id in result["stuck"] and visit_id not in result["unpublished"]
    stored = item(stack, visit_id)
    assert stored["status"] == "FAILED" and stored["reason"] == stored["error"] == sweeper.STUCK
    assert f"TimeoutSeconds ({timeout} s)" in stored["cause"]
    assert stack.wait_execution(arn, 30)["status"] == "ABORTED"
    tile = stack.appsync.published_for(visit_id)[-1]
    assert tile["status"] == "FAILED" and tile["reason"] == sweeper.MESSAGES[sweeper.STUCK]
    assert stack.appsync.published(str(display))[-1] == tile
    posts = [t for t in stack.slack.texts()[slack_before:] if visit_id in t]
    assert len(posts) == 1 and "The sweeper failed" in posts[0] and sweeper.STUCK in posts[0]
    # The ABORTED execution's status change finds the visit final: no second alert, and the
    # record stays the sweeper's.
    time.sleep(3)
    assert len([t for t in stack.slack.texts()[slack_before:] if visit_id in t]) == 1
    assert item(stack, visit_id)["reason"] == sweeper.STUCK
    assert visit_id not in sweep(stack)["stuck"]  # idempotent
    stack.endpoints.clear_faults()
    next_visitor_is_served(stack, display)
    assert item(stack, visit_id)["status"] in FINAL
