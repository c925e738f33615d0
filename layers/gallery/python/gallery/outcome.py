"""Recording how a visit ended when it did not end in a portrait."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gallery import keys, privacy, visits
from gallery.contracts import Ended, RecordedOutcome
from gallery.errors import ERRORS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3 import S3Client

FALLBACK_MESSAGE = {
    "States.Timeout": "The face engine took too long.",
    "States.TaskFailed": "A step of the pipeline failed.",
}


def describe_error(error: Mapping[str, Any]) -> tuple[str, str]:
    """(reason, readable message) from a state machine Catch's {Error, Cause}. Lambda errors
    carry their message inside a JSON Cause; service and timeout errors carry plain text."""
    name = error.get("Error") or "UnknownError"
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        if isinstance(parsed, dict):
            cause = parsed.get("errorMessage") or parsed.get("message") or ""
    except ValueError:
        pass
    if not cause:
        known = ERRORS.get(name)
        cause = known.default_message if known else FALLBACK_MESSAGE.get(name, name)
    return name, str(cause)


def record(
    s3: S3Client,
    visit_table: Table,
    bucket: str,
    status: Ended,
    upload_key: str,
    error: Mapping[str, Any],
    execution_arn: str,
) -> RecordedOutcome:
    """Mark the visit REJECTED or FAILED. A rejected photo is deleted at once (the visitor will
    retake it); a failed one is kept until the lifecycle rule expires it, so an operator can
    re-run it. Returns the outcome that displays and Slack are told about."""
    if status not in (visits.REJECTED, visits.FAILED):
        raise ValueError(f"record() records REJECTED or FAILED, not {status}")
    display_id, visit_id = keys.parse_upload_key(upload_key)
    reason, message = describe_error(error)
    fields = {"reason": reason, "message": message}
    if status == visits.FAILED:
        fields["error"] = reason
        fields["cause"] = str(error.get("Cause") or "")[:4000]
    visit = visits.finish(visit_table, visit_id, status, fields)
    if visit is None and visits.get_visit(visit_table, visit_id) is None:
        # The visitor deleted the visit while it was processed: remove what the pipeline wrote since.
        privacy.delete_objects(s3, bucket, display_id, visit_id)
    elif status == visits.REJECTED:
        for key in (upload_key, keys.face_key(visit_id)):
            s3.delete_object(Bucket=bucket, Key=key)
    return {
        "recorded": visit is not None,
        "status": status,
        "visit": {"visitId": visit_id, "displayId": display_id, "theme": (visit or {}).get("theme")},
        "reason": reason,
        "message": message,
        "executionArn": execution_arn,
    }


# How an execution that ended without recording its visit is described to the visitor.
ENDED_WITHOUT_OUTCOME = {
    "FAILED": "The pipeline stopped with an error.",
    "TIMED_OUT": "The pipeline took longer than it may.",
    "ABORTED": "The pipeline was stopped.",
}
# Set on a visit that was marked FAILED by the state machine's last-resort write, which cannot
# tell the operators itself; execution_ended sends that alert.
ALERT_PENDING = "alertPending"


def execution_ended(visit_table: Table, detail: Mapping[str, Any]) -> RecordedOutcome | None:
    """Make sure the visit of a pipeline execution that ended FAILED, TIMED_OUT or ABORTED is
    final. `detail` is the "Step Functions Execution Status Change" event's detail; the visit is
    found through the execution input (the S3 event of the upload). Returns the outcome to
    alert the operators about, or None when there is nothing to tell: the input is not a
    tablet upload, the visit is gone, or the visit already ended and was already reported."""
    try:
        upload_key = json.loads(detail.get("input") or "{}")["detail"]["object"]["key"]
        display_id, visit_id = keys.parse_upload_key(upload_key)
    except (ValueError, KeyError, TypeError, keys.KeyOutsideUploads):
        return None
    current = visits.get_visit(visit_table, visit_id)
    if current is None or current.get("displayId") != display_id:
        return None
    if current.get("executionArn") not in (None, detail.get("executionArn")):
        # Another execution owns this visit (this one was a replay or a stray upload).
        return None
    status = detail.get("status") or "FAILED"
    error = detail.get("error") or f"Execution{status.title().replace('_', '')}"
    cause = detail.get("cause") or ENDED_WITHOUT_OUTCOME.get(status, "")
    fields = {
        "reason": error,
        "message": ENDED_WITHOUT_OUTCOME.get(status, "The pipeline stopped."),
        "error": error,
        "cause": str(cause)[:4000],
    }
    visit = visits.finish(visit_table, visit_id, visits.FAILED, fields)
    if visit is None:
        visit = _take_pending_alert(visit_table, visit_id)
        if visit is None:
            return None
        fields = {k: visit.get(k, fields[k]) for k in ("reason", "message")}
    return {
        "recorded": True,
        "status": visits.FAILED,
        "visit": {"visitId": visit_id, "displayId": display_id, "theme": visit.get("theme")},
        "reason": fields["reason"],
        "message": fields["message"],
        "executionArn": detail.get("executionArn", ""),
    }


def _take_pending_alert(visit_table: Table, visit_id: str) -> dict | None:
    """The visit, if a last-resort write left an alert to send; taken once, so a repeated event
    does not alert twice."""
    return visits.update_if(
        visit_table,
        visit_id,
        UpdateExpression="REMOVE #p",
        ConditionExpression="attribute_exists(#p)",
        ExpressionAttributeNames={"#p": ALERT_PENDING},
    )


def keep_alert_pending(visit_table: Table, visit_id: str) -> None:
    """An alert that could not be sent stays pending, so the retried event sends it."""
    visits.update_if(
        visit_table,
        visit_id,
        UpdateExpression="SET #p = :yes",
        ConditionExpression="attribute_exists(visitId)",
        ExpressionAttributeNames={"#p": ALERT_PENDING},
        ExpressionAttributeValues={":yes": True},
    )
