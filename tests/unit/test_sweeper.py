"""The stuck-visit sweeper on moto: which visits are overdue at which times (to the
millisecond), that a sweep is idempotent, and that no final state is ever overwritten.

The visits table is created as template.yaml declares it (byStatus included) and the pipeline
as pipeline.asl.json defines it, so the deadlines come from the same facts as in production."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gallery import sweeper, uploads, visits
from tests.unit._functions import fresh_runtime, invoke, load_event
from tests.unit.conftest import create_visits_table

ROOT = Path(__file__).resolve().parents[2]
ASL_TEXT = (ROOT / "statemachine" / "pipeline.asl.json").read_text()
PIPELINE_TIMEOUT = json.loads(re.sub(r"\$\{\w+\}", "x", ASL_TEXT))["TimeoutSeconds"]
ROLE = "arn:aws:iam::123456789012:role/pipeline"
T0 = datetime(2026, 11, 24, 14, 0, 0, tzinfo=timezone.utc)
WAIT_DEADLINE = timedelta(seconds=uploads.UPLOAD_SECONDS + sweeper.UPLOAD_MARGIN_SECONDS)
RUN_DEADLINE = timedelta(seconds=PIPELINE_TIMEOUT + sweeper.PROCESSING_MARGIN_SECONDS)
MS = timedelta(milliseconds=1)


@pytest.fixture
def aws(aws_session, monkeypatch):
    ddb = aws_session.resource("dynamodb")
    table = create_visits_table(ddb)
    sfn = aws_session.client("stepfunctions")
    lambda_arn = '"arn:aws:lambda:us-east-1:123456789012:function:x"'
    definition = re.sub(r"\$\{\w+\}", "x", ASL_TEXT).replace('"x"', lambda_arn)
    machine = sfn.create_state_machine(name="pipeline", definition=definition, roleArn=ROLE)["stateMachineArn"]
    monkeypatch.setenv("VISITS_TABLE", "visits")
    return table, sfn, machine


def put(table, visit_id: str, status: str, created: datetime, claimed: datetime | None = None, arn: str = "") -> None:
    item = {
        "visitId": visit_id,
        "displayId": "3",
        "theme": "painting",
        "status": status,
        "consent": True,
        "createdAt": sweeper.iso(created),
    }
    if claimed:
        item.update(claimedAt=sweeper.iso(claimed), executionArn=arn)
    table.put_item(Item=item)


def execution(sfn, machine: str, name: str) -> str:
    return sfn.start_execution(stateMachineArn=machine, name=name, input="{}")["executionArn"]


def ids(result: dict, kind: str) -> list[str]:
    return [o["visit"]["visitId"] for o in result[kind]]


def test_a_waiting_visit_is_abandoned_one_millisecond_after_its_upload_window_and_margin(aws):
    table, sfn, _ = aws
    put(table, "w1", visits.WAITING, T0)
    assert sweeper.abandoned(table, T0 + WAIT_DEADLINE) == []
    result = sweeper.sweep(table, sfn, T0 + WAIT_DEADLINE + MS)
    assert ids(result, "abandoned") == ["w1"] and result["stuck"] == []
    item = visits.get_visit(table, "w1")
    assert item["status"] == visits.FAILED and item["reason"] == item["error"] == sweeper.ABANDONED
    assert item["message"] == "The photo never arrived."
    assert sweeper.iso(T0) in item["cause"] and f"({uploads.UPLOAD_SECONDS} s)" in item["cause"]
    assert item["finishedAt"]


def test_a_processing_visit_is_stuck_one_millisecond_after_its_executions_timeout_and_margin(aws):
    table, sfn, machine = aws
    claimed = T0 + timedelta(seconds=40)
    arn = execution(sfn, machine, "p1")
    put(table, "p1", visits.PROCESSING, T0, claimed, arn)
    assert sweeper.stuck(table, sfn, claimed + RUN_DEADLINE) == []
    result = sweeper.sweep(table, sfn, claimed + RUN_DEADLINE + MS)
    assert ids(result, "stuck") == ["p1"] and result["abandoned"] == []
    assert result["stuck"][0]["stopped"] == "stopped"
    assert result["stuck"][0]["executionArn"] == arn
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    item = visits.get_visit(table, "p1")
    assert item["status"] == visits.FAILED and item["reason"] == item["error"] == sweeper.STUCK
    assert f"TimeoutSeconds ({PIPELINE_TIMEOUT} s)" in item["cause"]


def test_the_processing_deadline_counts_from_the_claim_not_the_creation(aws):
    table, sfn, machine = aws
    # Created long ago, claimed just now: its execution has all its time still.
    now = T0 + RUN_DEADLINE * 2
    put(table, "p2", visits.PROCESSING, T0, now - timedelta(seconds=5), execution(sfn, machine, "p2"))
    assert sweeper.sweep(table, sfn, now) == {"stuck": [], "abandoned": []}
    assert visits.get_visit(table, "p2")["status"] == visits.PROCESSING


def test_the_deadline_is_the_deployed_definitions_timeout(aws):
    _, sfn, machine = aws
    assert sweeper.execution_timeout(sfn, machine) == PIPELINE_TIMEOUT
    arn = execution(sfn, machine, "any")
    assert sweeper.state_machine_of(arn) == machine


def test_which_visits_are_overdue_at_which_times(aws):
    table, sfn, machine = aws
    put(table, "wait-young", visits.WAITING, T0 + timedelta(minutes=30))
    put(table, "wait-old", visits.WAITING, T0)
    put(table, "run-young", visits.PROCESSING, T0, T0 + timedelta(minutes=30), execution(sfn, machine, "a"))
    put(table, "run-old", visits.PROCESSING, T0, T0 + timedelta(seconds=20), execution(sfn, machine, "b"))
    moments = {
        T0 + timedelta(minutes=1): ([], []),
        T0 + WAIT_DEADLINE + MS: (["wait-old"], []),
        T0 + timedelta(seconds=20) + RUN_DEADLINE + MS: (["wait-young"], ["run-old"]),
        T0 + timedelta(minutes=30) + RUN_DEADLINE + MS: ([], ["run-young"]),
    }
    for now, (abandoned, stuck) in moments.items():
        result = sweeper.sweep(table, sfn, now)
        assert (sorted(ids(result, "abandoned")), ids(result, "stuck")) == (abandoned, stuck), now


def test_a_sweep_is_idempotent(aws):
    table, sfn, machine = aws
    put(table, "w", visits.WAITING, T0)
    put(table, "p", visits.PROCESSING, T0, T0, execution(sfn, machine, "p"))
    now = T0 + RUN_DEADLINE + timedelta(minutes=1)
    first = sweeper.sweep(table, sfn, now)
    assert ids(first, "abandoned") == ["w"] and ids(first, "stuck") == ["p"]
    before = {v: visits.get_visit(table, v) for v in ("w", "p")}
    assert sweeper.sweep(table, sfn, now + timedelta(minutes=5)) == {"stuck": [], "abandoned": []}
    assert {v: visits.get_visit(table, v) for v in ("w", "p")} == before
    assert sweeper.slack_message({"stuck": [], "abandoned": []}) is None


@pytest.mark.parametrize("status", [visits.DONE, visits.REJECTED, visits.FAILED, visits.DELETING])
def test_a_final_or_deleting_visit_is_never_touched(aws, status):
    table, sfn, machine = aws
    put(table, "v", status, T0, T0, execution(sfn, machine, "v"))
    before = visits.get_visit(table, "v")
    assert sweeper.sweep(table, sfn, T0 + RUN_DEADLINE * 3) == {"stuck": [], "abandoned": []}
    assert visits.get_visit(table, "v") == before


def test_a_visit_that_ended_after_it_was_found_keeps_its_result(aws):
    table, sfn, machine = aws
    arn = execution(sfn, machine, "race")
    put(table, "race", visits.PROCESSING, T0, T0, arn)
    now = T0 + RUN_DEADLINE + timedelta(minutes=1)
    [(found, _)] = sweeper.stuck(table, sfn, now)
    # The result is saved between the sweeper's Query and its write.
    table.update_item(
        Key={"visitId": "race"},
        UpdateExpression="SET #s = :done",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":done": visits.DONE},
    )
    assert sweeper.fail(table, found, sweeper.STUCK, "late") is None
    assert visits.get_visit(table, "race")["status"] == visits.DONE
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"  # not stopped either


def test_an_execution_already_gone_does_not_stop_the_sweep(aws):
    table, sfn, machine = aws
    gone = machine.replace(":stateMachine:", ":execution:") + ":never-started"
    put(table, "g", visits.PROCESSING, T0, T0, gone)
    result = sweeper.sweep(table, sfn, T0 + RUN_DEADLINE + timedelta(minutes=1))
    assert ids(result, "stuck") == ["g"] and result["stuck"][0]["stopped"] == "gone"
    assert visits.get_visit(table, "g")["status"] == visits.FAILED


def test_one_slack_post_lists_the_stuck_visits_and_counts_the_abandoned(aws):
    table, sfn, machine = aws
    put(table, "w", visits.WAITING, T0)
    for name in ("p1", "p2"):
        put(table, name, visits.PROCESSING, T0, T0, execution(sfn, machine, name))
    result = sweeper.sweep(table, sfn, T0 + RUN_DEADLINE + timedelta(minutes=1))
    text = sweeper.slack_message(result)["text"]
    assert text.startswith(":rotating_light: The sweeper failed 2 stuck visit(s) (and closed 1 abandoned):")
    assert "`p1`" in text and "`p2`" in text and "`w`" not in text
    assert text.count(sweeper.STUCK) == 2
    # Abandoned visits alone are not alerted.
    assert sweeper.slack_message({"stuck": [], "abandoned": result["stuck"]}) is None


def test_a_sweep_runs_as_of_its_scheduled_time_never_later_than_the_clock():
    clock = datetime(2026, 11, 24, 15, 40, tzinfo=timezone.utc)
    assert sweeper.as_of("2026-11-24T15:35:00Z", clock) == datetime(2026, 11, 24, 15, 35, tzinfo=timezone.utc)
    assert sweeper.as_of("2027-01-01T00:00:00Z", clock) == clock
    assert sweeper.as_of(None, clock) == clock and sweeper.as_of("soon", clock) == clock


def test_the_handler_on_the_sample_event_closes_an_abandoned_visit_quietly(aws, monkeypatch):
    table, _, _ = aws
    event = load_event("sweep_stuck_visits")
    scheduled = sweeper.parse_iso(event["time"])
    put(table, "walked-away", visits.WAITING, scheduled - WAIT_DEADLINE - MS)
    put(table, "still-here", visits.WAITING, scheduled - WAIT_DEADLINE)
    for name in ("POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED"):
        monkeypatch.setenv(name, "true")
    fresh_runtime()
    try:
        out = invoke("sweep_stuck_visits", event)
    finally:
        fresh_runtime()
    # No stuck visit: nothing published, no Slack post (neither is configured here).
    assert out == {"stuck": [], "abandoned": ["walked-away"], "unpublished": []}
    assert visits.get_visit(table, "still-here")["status"] == visits.WAITING
