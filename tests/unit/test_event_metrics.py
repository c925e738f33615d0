"""The event's metrics as CloudWatch receives them: the EMF documents Powertools prints."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from aws_lambda_powertools import Metrics

from gallery import event_metrics
from tests.unit.conftest import create_visits_table

VISIT = "0123456789abcdef0123456789abcdef"
TIMINGS = {"cropMs": 912, "portraitMs": 41, "swapMs": 6840, "restoreMs": 3125}


@pytest.fixture
def metrics(monkeypatch: pytest.MonkeyPatch) -> Metrics:
    # The local stack and CI may disable metrics; these tests read what Lambda would print.
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "gallery")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "PastLifeGallery")
    m = Metrics()
    m.clear_metrics()
    yield m
    m.clear_metrics()


def emitted(capsys: pytest.CaptureFixture, metrics: Metrics) -> list[dict]:
    metrics.flush_metrics()
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def definitions(docs: list[dict]) -> dict[str, tuple[str, list[list[str]], str]]:
    """metric name -> (namespace, dimension sets, unit), across every EMF document."""
    found = {}
    for doc in docs:
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                found.setdefault(metric["Name"], []).append(
                    (directive["Namespace"], directive["Dimensions"], metric["Unit"], doc)
                )
    return found


def test_started_and_ended_are_counts_with_the_service_dimension_only(metrics, capsys):
    event_metrics.visit_started(metrics)
    event_metrics.visit_ended(metrics, "REJECTED")
    event_metrics.visit_ended(metrics, "FAILED")
    (doc,) = emitted(capsys, metrics)
    (directive,) = doc["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "PastLifeGallery"
    assert directive["Dimensions"] == [["service"]] and doc["service"] == "gallery"
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "VisitsStarted": "Count",
        "VisitsRejected": "Count",
        "VisitsFailed": "Count",
    }
    assert doc["VisitsStarted"] == [1.0]


def test_done_visit_has_its_end_to_end_and_stage_times_and_no_visit_id(metrics, capsys, aws_session):
    table = create_visits_table(aws_session.resource("dynamodb"))
    claimed = datetime(2026, 11, 24, 14, 27, 0, tzinfo=timezone.utc)
    table.put_item(Item={"visitId": VISIT, "displayId": "3", "claimedAt": claimed.isoformat().replace("+00:00", "Z")})
    now = (claimed + timedelta(seconds=12, milliseconds=345)).timestamp()

    event_metrics.visit_done(metrics, table, VISIT, TIMINGS, now=now)
    docs = emitted(capsys, metrics)

    found = definitions(docs)
    assert set(found) == {"VisitsDone", "EndToEndMs", "StageMs"} <= event_metrics.METRIC_NAMES
    ((_, dims, unit, doc),) = found["EndToEndMs"]
    assert (dims, unit) == ([["service"]], "Milliseconds") and doc["EndToEndMs"] == [pytest.approx(12345, abs=1)]
    stages = {d["Stage"]: (dims, unit, d["StageMs"]) for _, dims, unit, d in found["StageMs"]}
    assert stages == {
        "CropFace": ([["Stage", "service"]], "Milliseconds", [912.0]),
        "ChoosePortrait": ([["Stage", "service"]], "Milliseconds", [41.0]),
        "SwapFace": ([["Stage", "service"]], "Milliseconds", [6840.0]),
        "RestoreFace": ([["Stage", "service"]], "Milliseconds", [3125.0]),
    }
    for _, ns_dims, _, _ in (x for xs in found.values() for x in xs):
        assert {d for ds in ns_dims for d in ds} <= {"service", "Stage"}
    printed = json.dumps(docs)
    assert VISIT not in printed and "displayId" not in printed


def test_a_done_visit_deleted_meanwhile_counts_without_a_time(metrics, capsys, aws_session):
    table = create_visits_table(aws_session.resource("dynamodb"))
    event_metrics.visit_done(metrics, table, VISIT, None)
    assert set(definitions(emitted(capsys, metrics))) == {"VisitsDone"}


def test_the_outcome_writers_count_through_event_metrics():
    """Each outcome is counted where it is written, with the names event_metrics defines."""
    root = Path(__file__).resolve().parents[2] / "functions"
    for name in ("claim_visit", "record_outcome", "publish_display", "execution_ended"):
        text = (root / name / "app.py").read_text()
        assert "event_metrics." in text and "add_metric(" not in text, name


def test_unknown_status_is_refused(metrics):
    with pytest.raises(KeyError):
        event_metrics.visit_ended(metrics, "PROCESSING")


def test_nothing_is_printed_when_metrics_are_disabled(monkeypatch, capsys, aws_session):
    """The local stack disables metrics: `gallery demo --json` prints only its own lines."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "PastLifeGallery")
    table = create_visits_table(aws_session.resource("dynamodb"))
    table.put_item(Item={"visitId": "v" * 32, "displayId": "1", "createdAt": "x", "claimedAt": "2026-11-29T10:00:00Z"})
    quiet = Metrics()
    event_metrics.visit_done(quiet, table, "v" * 32, {"cropMs": 100, "swapMs": 300})
    quiet.flush_metrics()
    assert capsys.readouterr().out == ""
