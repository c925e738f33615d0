"""The event's metrics (CloudWatch EMF through Powertools): what the dashboard draws and the
alarms watch.

Each visit is counted once, by the code that makes its outcome final: a final state is a
conditional write that succeeds once per visit, so the count goes with it (`VisitsRejected`
and `VisitsFailed` where `record_outcome` or `execution_ended` wrote it; `VisitsDone` in
`publish_display`, the first code after SaveResult's write, which is a DynamoDB integration
with no code of its own). `VisitsStarted` goes with the claim, which also succeeds once.

Dimensions: `service` (Powertools adds it) on everything and `Stage` on StageMs, nothing else.
Never the visitId (one series per visitor, and a visitor's id in a system kept for 15 months);
not the displayId either: eight values would be cheap, but CloudWatch alarms and percentiles
only see the dimension set a metric was published with, so every alarm would need the eight
series summed, and a display's own trouble already shows on its tile and in its Slack posts.
Not the theme, for the same reason."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from gallery import visits

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

STARTED = "VisitsStarted"
ENDED = {visits.DONE: "VisitsDone", visits.REJECTED: "VisitsRejected", visits.FAILED: "VisitsFailed"}
END_TO_END = "EndToEndMs"
STAGE = "StageMs"
# The timings the pipeline state carries, by the state that measured them.
STAGES = {"cropMs": "CropFace", "portraitMs": "ChoosePortrait", "swapMs": "SwapFace", "restoreMs": "RestoreFace"}
# Every metric this module emits, for the dashboard and its test.
METRIC_NAMES = frozenset({STARTED, *ENDED.values(), END_TO_END, STAGE})


def visit_started(metrics: Metrics) -> None:
    metrics.add_metric(name=STARTED, unit=MetricUnit.Count, value=1)


def visit_ended(metrics: Metrics, status: str) -> None:
    """Count a visit that reached `status` (DONE, REJECTED or FAILED). Call it only where that
    state was just written, so that a visit counts once."""
    metrics.add_metric(name=ENDED[status], unit=MetricUnit.Count, value=1)


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def visit_done(
    metrics: Metrics, visit_table: Table, visit_id: str, timings: Mapping[str, Any] | None, now: float | None = None
) -> None:
    """Count a DONE visit, with its end-to-end time and each stage's time.

    End to end runs from the claim (claimedAt: the upload reached the pipeline, S3 and
    EventBridge's sub-second hop before it excluded) to now, when the portrait is handed to the
    wall. Not from createdAt: that includes the visitor posing for the photo. A visit deleted
    meanwhile is still counted, without a time."""
    visit_ended(metrics, visits.DONE)
    item = visit_table.get_item(Key={"visitId": visit_id}, ProjectionExpression="claimedAt").get("Item") or {}
    if item.get("claimedAt"):
        ms = ((time.time() if now is None else now) - _epoch(str(item["claimedAt"]))) * 1000
        metrics.add_metric(name=END_TO_END, unit=MetricUnit.Milliseconds, value=max(ms, 0.0))
    if is_metrics_disabled():
        return  # single_metric prints whatever the switch says; the Metrics object honours it
    for key, stage in STAGES.items():
        value = (timings or {}).get(key)
        if isinstance(value, (int, float)):
            # One EMF document per stage: Stage is a dimension of this metric only, so the
            # counts above keep the one dimension set the alarms read.
            with single_metric(
                name=STAGE,
                unit=MetricUnit.Milliseconds,
                value=float(value),
                default_dimensions=metrics.default_dimensions,
            ) as metric:
                metric.add_dimension(name="Stage", value=stage)
