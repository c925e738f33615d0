"""The visit record: one item per visitor in the visits table, and its state transitions.

WAITING_FOR_PHOTO -> PROCESSING -> DONE | REJECTED | FAILED. The claim is a conditional
update, so a replayed upload event cannot start the work twice."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from gallery import THEMES
from gallery.errors import AlreadyClaimed, BadRequest, ConsentMissing, KeyOutsideUploads, VisitNotFound

WAITING = "WAITING_FOR_PHOTO"
PROCESSING = "PROCESSING"
DONE = "DONE"
REJECTED = "REJECTED"
FAILED = "FAILED"
FINAL = (DONE, REJECTED, FAILED)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_visit(visits: Any, display_id: str, theme: str, consent: bool, retention_days: int) -> dict:
    """Write a visit that waits for its photo. Without consent nothing is written."""
    if theme not in THEMES:
        raise BadRequest(f"Unknown theme {theme!r}; choose one of {', '.join(THEMES)}.")
    if consent is not True:
        raise ConsentMissing()
    if not str(display_id).isdigit():
        raise BadRequest("This tablet is not assigned to a display.")
    created = now_iso()
    item = {
        "visitId": uuid.uuid4().hex,
        "displayId": str(display_id),
        "theme": theme,
        "status": WAITING,
        "consent": True,
        "consentAt": created,
        "createdAt": created,
        "expiresAt": int(time.time()) + int(retention_days) * 86400,
    }
    visits.put_item(Item=item, ConditionExpression="attribute_not_exists(visitId)")
    return item


def get_visit(visits: Any, visit_id: str) -> dict | None:
    return visits.get_item(Key={"visitId": visit_id}, ConsistentRead=True).get("Item")


def claim(visits: Any, visit_id: str, display_id: str, execution_arn: str) -> dict:
    """Move the visit from WAITING_FOR_PHOTO to PROCESSING, once.

    A second delivery of the same upload event finds the visit already claimed and raises
    AlreadyClaimed, which the state machine ends quietly."""
    try:
        return visits.update_item(
            Key={"visitId": visit_id},
            UpdateExpression="SET #s = :processing, executionArn = :arn, claimedAt = :now",
            ConditionExpression=(
                "attribute_exists(visitId) AND displayId = :display AND #s = :waiting AND consent = :yes"
            ),
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":processing": PROCESSING,
                ":waiting": WAITING,
                ":yes": True,
                ":arn": execution_arn,
                ":display": display_id,
                ":now": now_iso(),
            },
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except ClientError as e:
        if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    visit = get_visit(visits, visit_id)
    if visit is None:
        raise VisitNotFound(f"No visit {visit_id}.")
    if visit.get("displayId") != display_id:
        raise KeyOutsideUploads(f"Visit {visit_id} belongs to display {visit.get('displayId')}, not {display_id}.")
    if visit.get("status") != WAITING:
        raise AlreadyClaimed(f"Visit {visit_id} is already {visit.get('status')}.")
    raise ConsentMissing()


def finish(visits: Any, visit_id: str, status: str, fields: dict) -> dict | None:
    """Record a final REJECTED or FAILED state. Returns None when the visit is gone (deleted by
    the visitor) or already final, so a late failure never overwrites a result."""
    names = {"#s": "status"}
    values = {":status": status, ":now": now_iso(), ":waiting": WAITING, ":processing": PROCESSING}
    sets = ["#s = :status", "finishedAt = :now"]
    for i, (k, v) in enumerate(fields.items()):
        names[f"#f{i}"] = k
        values[f":f{i}"] = v
        sets.append(f"#f{i} = :f{i}")
    try:
        return visits.update_item(
            Key={"visitId": visit_id},
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="attribute_exists(visitId) AND #s IN (:waiting, :processing)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None
        raise


def public_view(visit: dict) -> dict:
    """What a tablet or a visitor's phone may see of a visit."""
    keep = (
        "visitId",
        "displayId",
        "theme",
        "status",
        "reason",
        "message",
        "story",
        "title",
        "portraitId",
        "timings",
        "createdAt",
        "finishedAt",
        "error",
    )
    return {k: plain(visit[k]) for k in keep if k in visit}


def plain(v: Any) -> Any:
    """DynamoDB resources return Decimal for numbers; JSON responses want int and float."""
    if isinstance(v, Decimal):
        return int(v) if v == int(v) else float(v)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v
