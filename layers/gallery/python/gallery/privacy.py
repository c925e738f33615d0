"""A visitor's right to be forgotten: delete every object and item of a visit."""

from __future__ import annotations

from typing import Any

from gallery import keys, visits
from gallery.errors import VisitNotFound


def delete_visit(s3: Any, visit_table: Any, displays: Any, bucket: str, visit_id: str) -> dict:
    visit = visits.get_visit(visit_table, visit_id)
    if visit is None:
        raise VisitNotFound("This visit has expired or was already deleted.")
    deleted = keys.visit_object_keys(visit["displayId"], visit_id)
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in deleted], "Quiet": True})
    visit_table.delete_item(Key={"visitId": visit_id})
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
    return {"visitId": visit_id, "deleted": True, "objects": len(deleted), "displayCleared": cleared}
