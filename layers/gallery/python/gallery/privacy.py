"""A visitor's right to be forgotten: only the visitor deletes, and deleting removes every
object and item of the visit.

The order makes a retry finish what a failed attempt began: the visit is first marked DELETING
(no pipeline step matches it any more), then its objects go, then the items that point at it,
and the visit item last. While the visit item exists a retry still has everything it needs (the
display, the view token, the owner's hash); once it is gone the visit is deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gallery import keys, visits
from gallery.contracts import DeleteVisitResponse
from gallery.errors import Forbidden

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3 import S3Client

NOT_OWNER = "Only the visitor can delete this portrait, with the private link the tablet showed."
OWNER_SCHEME = "owner"


def owner_secret(authorization: str | None) -> str | None:
    """The secret of an `Authorization: Owner <secret>` header, or None. The visitor's page sends
    it as a header (never in a URL), so it stays out of access logs and browser history."""
    scheme, _, secret = (authorization or "").strip().partition(" ")
    return secret.strip() or None if scheme.lower() == OWNER_SCHEME else None


def inference_keys(s3: S3Client, bucket: str, visit_id: str) -> list[str]:
    """A visit's async inference requests, outputs and failures. Their names carry a random
    attempt id after the visit id, so they are found by prefix (s3:ListBucket on the bucket)."""
    found: list[str] = []
    for prefix in keys.visit_inference_prefixes(visit_id):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            found += [o["Key"] for o in page.get("Contents", [])]
    return found


def inference_ids(object_keys: list[str]) -> set[str]:
    """The inference ids named by inference/{kind}/{task}/{inferenceId}[...] keys."""
    ids = set()
    for key in object_keys:
        name = key.rsplit("/", 1)[-1]
        for suffix in ("-error.out", ".json", ".out"):
            if name.endswith(suffix):
                ids.add(name[: -len(suffix)])
                break
    return ids


def delete_objects(
    s3: S3Client, bucket: str, display_id: str, visit_id: str, view_token: str | None = None
) -> list[str]:
    """Delete every object of a visit: its photo, crop, intermediate and final images, the wall's
    copy, and its async inference requests, outputs and failures. Returns the keys it deleted
    (deleting a key that is not there is not an error, so a retry repeats this safely)."""
    doomed = keys.visit_object_keys(display_id, visit_id) + inference_keys(s3, bucket, visit_id)
    if view_token:
        doomed.append(keys.wall_image_key(view_token))
    for i in range(0, len(doomed), 1000):
        resp = s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in doomed[i : i + 1000]], "Quiet": True}
        )
        # DeleteObjects answers 200 even when a key was refused: a refusal must fail the delete,
        # so that the visit item stays and the visitor's retry can finish the job.
        if resp.get("Errors"):
            first = resp["Errors"][0]
            raise RuntimeError(f"S3 refused to delete {len(resp['Errors'])} object(s): {first.get('Code')}")
    return doomed


def delete_visit(
    s3: S3Client, visit_table: Table, displays: Table, tokens: Table, bucket: str, visit_id: str, secret: str | None
) -> DeleteVisitResponse:
    """Delete a visit for its owner. A visit that is not there (deleted before, expired, or never
    made) answers the same "deleted" to anyone, so the answer tells nobody whether it existed."""
    visit = visits.get_visit(visit_table, visit_id)
    if visit is None:
        return {"deleted": True, "objects": 0, "displayCleared": False}
    if not visits.is_owner(visit, secret):
        raise Forbidden(NOT_OWNER)
    if visit.get("status") != visits.DELETING:
        visits.mark_deleting(visit_table, visit_id)
    view_token = visit.get("viewToken")
    deleted = delete_objects(s3, bucket, visit["displayId"], visit_id, view_token)
    # Task tokens of inferences still in flight: their callback then finds nobody waiting.
    for inference in inference_ids(deleted):
        tokens.delete_item(Key={"inferenceId": inference})
    cleared = clear_display(displays, visit["displayId"], visit_id)
    visit_table.delete_item(Key={"visitId": visit_id})
    return {"deleted": True, "objects": len(deleted), "displayCleared": cleared}


def clear_display(displays: Table, display_id: str, visit_id: str) -> bool:
    """A display still showing this visitor goes back to its default image."""
    try:
        displays.delete_item(
            Key={"displayId": display_id},
            ConditionExpression="visitId = :v",
            ExpressionAttributeValues={":v": visit_id},
        )
        return True
    except displays.meta.client.exceptions.ConditionalCheckFailedException:
        return False
