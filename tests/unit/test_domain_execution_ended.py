"""gallery.outcome.execution_ended: the backstop for a pipeline execution that ended FAILED,
TIMED_OUT or ABORTED, on moto's DynamoDB with the template's visits table. The event is the
sample in events/execution_ended.json (AWS's "Step Functions Execution Status Change")."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from gallery import outcome
from tests.unit.conftest import create_visits_table

EVENT = json.loads((Path(__file__).resolve().parents[2] / "events" / "execution_ended.json").read_text())
VISIT = "0123456789abcdef0123456789abcdef"
ARN = EVENT["detail"]["executionArn"]


@pytest.fixture
def visits(aws_session):
    return create_visits_table(aws_session.resource("dynamodb"))


def put(visits, status: str, **extra) -> None:
    visits.put_item(
        Item={
            "visitId": VISIT,
            "displayId": "3",
            "theme": "painting",
            "status": status,
            "createdAt": "2026-11-24T14:26:41.120Z",
            "executionArn": ARN,
            **extra,
        }
    )


def detail(**changes) -> dict:
    d = copy.deepcopy(EVENT["detail"])
    d.update(changes)
    return d


def stored(visits) -> dict | None:
    return visits.get_item(Key={"visitId": VISIT}).get("Item")


@pytest.mark.parametrize(
    "status,error,reason",
    [
        ("TIMED_OUT", None, "ExecutionTimedOut"),
        ("ABORTED", None, "ExecutionAborted"),
        ("FAILED", "States.Runtime", "States.Runtime"),
    ],
)
def test_a_visit_still_processing_becomes_failed(visits, status, error, reason):
    put(visits, "PROCESSING")
    ended = outcome.execution_ended(visits, detail(status=status, error=error, cause="why" if error else None))
    assert ended["status"] == "FAILED" and ended["reason"] == reason and ended["executionArn"] == ARN
    assert ended["visit"] == {"visitId": VISIT, "displayId": "3", "theme": "painting"}
    item = stored(visits)
    assert item["status"] == "FAILED" and item["reason"] == reason and item["error"] == reason
    assert item["message"] and item["finishedAt"]


@pytest.mark.parametrize("status", ["DONE", "REJECTED", "FAILED"])
def test_a_visit_that_already_ended_is_left_alone(visits, status):
    put(visits, status, reason="earlier")
    assert outcome.execution_ended(visits, detail()) is None
    assert stored(visits)["status"] == status and stored(visits)["reason"] == "earlier"


def test_a_pending_alert_from_the_last_resort_write_is_sent_once(visits):
    put(visits, "FAILED", reason="InferenceFailed", message="Something went wrong.", alertPending=True)
    ended = outcome.execution_ended(visits, detail(status="FAILED", error="VisitFailed"))
    assert ended["reason"] == "InferenceFailed" and ended["status"] == "FAILED"
    assert "alertPending" not in stored(visits)
    assert outcome.execution_ended(visits, detail(status="FAILED", error="VisitFailed")) is None


def test_an_alert_that_could_not_be_sent_stays_pending(visits):
    put(visits, "PROCESSING")
    assert outcome.execution_ended(visits, detail())
    outcome.keep_alert_pending(visits, VISIT)
    assert outcome.execution_ended(visits, detail())  # the retried event alerts
    assert outcome.execution_ended(visits, detail()) is None


def test_nothing_for_a_deleted_visit_a_foreign_execution_or_a_stray_object(visits):
    assert outcome.execution_ended(visits, detail()) is None  # deleted
    assert stored(visits) is None
    put(visits, "PROCESSING", executionArn=ARN + "-the-one-that-claimed-it")
    assert outcome.execution_ended(visits, detail()) is None  # a replay's execution
    assert stored(visits)["status"] == "PROCESSING"
    stray = json.loads(EVENT["detail"]["input"])
    stray["detail"]["object"]["key"] = "other/3/x.jpg"
    assert outcome.execution_ended(visits, detail(input=json.dumps(stray))) is None
    assert outcome.execution_ended(visits, detail(input="not json")) is None
    wrong_display = json.loads(EVENT["detail"]["input"])
    wrong_display["detail"]["object"]["key"] = f"uploads/4/{VISIT}.jpg"
    put(visits, "PROCESSING")
    assert outcome.execution_ended(visits, detail(input=json.dumps(wrong_display))) is None
    assert stored(visits)["status"] == "PROCESSING"
