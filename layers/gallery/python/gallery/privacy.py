"""A visitor's right to be forgotten: delete every object and item of a visit."""

from __future__ import annotations

from typing import Any

from gallery import keys, visits
from gallery.errors import VisitNotFound


def delete_objects(s3: Any, bucket: str, display_id: str, visit_id: str) -> int:
    """Delete every object of a visit: its photo, crop, intermediate and final images, and its
    async inference requests and outputs. Returns how many keys were deleted."""
    doomed = keys.visit_object_keys(display_id, visit_id)
    for prefix in keys.visit_inference_prefixes(visit_id):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            doomed += [o["Key"] for o in page.get("Contents", [])]
    for i in range(0, len(doomed), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in doomed[i : i + 1000]], "Quiet": True})
    return len(doomed)


def delete_visit(s3: Any, visit_table: Any, displays: Any, bucket: str, visit_id: str) -> dict:
    visit = visits.get_visit(visit_table, visit_id)
    if visit is None:
        raise VisitNotFound("This visit has expired or was already deleted.")
    # The item goes first: a visit still being processed then cannot become DONE, and the
    # pipeline's own clean-up (outcome.record) removes anything it writes afterwards.
    visit_table.delete_item(Key={"visitId": visit_id})
    deleted = delete_objects(s3, bucket, visit["displayId"], visit_id)
    # A display still showing this visitor goes back to its default image.
    cleared = False
    try:
        displays.delete_item(
            Key={"displayId": visit["displayId"]},
            ConditionExpression="visitId = :v",
            ExpressionAttributeValues={":v": visit_id},
        )
        cleared = True
    except displays.meta.client.exceptions.ConditionalCheckFailedException:
        pass
    return {"visitId": visit_id, "deleted": True, "objects": deleted, "displayCleared": cleared}
