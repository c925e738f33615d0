"""Recording how a visit ended when it did not end in a portrait."""

from __future__ import annotations

import json
from typing import Any

from gallery import keys, privacy, visits
from gallery.errors import ERRORS

FALLBACK_MESSAGE = {
    "States.Timeout": "The face engine took too long.",
    "States.TaskFailed": "A step of the pipeline failed.",
}


def describe_error(error: dict) -> tuple[str, str]:
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
    s3: Any, visit_table: Any, bucket: str, status: str, upload_key: str, error: dict, execution_arn: str
) -> dict:
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
