"""The visit record: one item per visitor in the visits table, and its state transitions.

WAITING_FOR_PHOTO -> PROCESSING -> DONE | REJECTED | FAILED. The claim is a conditional
update, so a replayed upload event cannot start the work twice."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, cast

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from gallery import THEMES, catalog_items, errors, paging
from gallery.contracts import ViewerView, VisitView
from gallery.errors import AlreadyClaimed, BadRequest, ConsentMissing, KeyOutsideUploads, UnknownLanguage, VisitNotFound

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_s3 import S3Client

# Final: each is its literal type too (contracts.Status).
WAITING: Final = "WAITING_FOR_PHOTO"
PROCESSING: Final = "PROCESSING"
DONE: Final = "DONE"
REJECTED: Final = "REJECTED"
FAILED: Final = "FAILED"
FINAL = (DONE, REJECTED, FAILED)
# Set by the visitor's delete before anything is removed: no pipeline step matches it any more
# (claim, finish and SaveResult all require WAITING_FOR_PHOTO or PROCESSING), so a visit being
# processed cannot become DONE or be shown again while its objects go.
DELETING: Final = "DELETING"

# The wall's QR code lets a phone view a portrait for this long after it was put on the wall.
VIEW_LINK_SECONDS = 3600
VIEW_INDEX = "byViewToken"
DISPLAY_INDEX = "byDisplay"
# token_urlsafe(24): 32 characters of A-Z a-z 0-9 - _ (192 random bits).
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_visit(
    visits: Table,
    display_id: str,
    theme: str,
    consent: bool | None,
    retention_days: int,
    language: str = catalog_items.DEFAULT_LANGUAGE,
) -> dict:
    """Write a visit that waits for its photo. Without consent nothing is written. `language`
    is the one the visitor chose on the tablet: the portrait's title, story and audio and the
    pages they see follow it."""
    if language not in catalog_items.LANGUAGES:
        raise UnknownLanguage()
    if theme not in THEMES:
        raise BadRequest(f"Unknown theme {theme!r}; choose one of {', '.join(THEMES)}.")
    if consent is not True:
        raise ConsentMissing()
    if not str(display_id).isdigit():
        raise BadRequest("This tablet is not assigned to a display.")
    created = now_iso()
    # Only the tablet sees the owner secret, once; the item keeps its hash, so neither the table
    # nor anyone who reads it can delete the visit.
    secret = secrets.token_urlsafe(24)
    item: dict[str, Any] = {
        "visitId": uuid.uuid4().hex,
        "displayId": str(display_id),
        "theme": theme,
        "language": language,
        "status": WAITING,
        "consent": True,
        "consentAt": created,
        "createdAt": created,
        "expiresAt": int(time.time()) + int(retention_days) * 86400,
        "ownerHash": secret_hash(secret),
    }
    visits.put_item(Item=item, ConditionExpression="attribute_not_exists(visitId)")
    return {**item, "ownerSecret": secret}


def secret_hash(secret: str) -> str:
    """SHA-256 is enough: the secret is 192 random bits, so there is nothing to brute-force."""
    return hashlib.sha256(secret.encode()).hexdigest()


def is_owner(visit: dict, secret: str | None) -> bool:
    """Whether `secret` is the visit's owner secret, compared in constant time."""
    stored = visit.get("ownerHash")
    if not stored or not secret:
        return False
    return hmac.compare_digest(str(stored), secret_hash(secret))


def is_token(value: object) -> bool:
    return isinstance(value, str) and len(value) == 32 and set(value) <= TOKEN_CHARS


def update_if(table: Table, visit_id: str, **update: Any) -> dict | None:
    """update_item with a ConditionExpression: the item as it is now, or None when the condition
    did not hold (the visit is gone, or not in the state the write is for)."""
    try:
        return table.update_item(Key={"visitId": visit_id}, ReturnValues="ALL_NEW", **update)["Attributes"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return None
        raise


def open_view_link(visits: Table, visit_id: str, seconds: int = VIEW_LINK_SECONDS) -> dict | None:
    """Give a DONE visit a fresh view token for the wall's QR code. The token is not the visit id
    and lets a phone only view, until it expires. None when the visit is no longer DONE (deleted,
    or being deleted): then nothing of it may be shown."""
    token = secrets.token_urlsafe(24)
    until = int(time.time()) + int(seconds)
    opened = update_if(
        visits,
        visit_id,
        UpdateExpression="SET viewToken = :t, viewExpiresAt = :e",
        ConditionExpression="attribute_exists(visitId) AND #s = :done",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":t": token, ":e": until, ":done": DONE},
    )
    return None if opened is None else {"viewToken": token, "viewExpiresAt": until}


def by_view_token(visits: Table, token: str) -> dict | None:
    """The DONE visit that a live view token names, or None (unknown, expired or deleted)."""
    if not is_token(token):
        return None
    found = visits.query(IndexName=VIEW_INDEX, KeyConditionExpression=Key("viewToken").eq(token), Limit=1)["Items"]
    if not found:
        return None
    # The index is eventually consistent; the item itself is read consistently and re-checked.
    visit = get_visit(visits, str(found[0]["visitId"]))
    if not visit or visit.get("viewToken") != token or visit.get("status") != DONE:
        return None
    if int(visit.get("viewExpiresAt") or 0) <= time.time():
        return None
    return visit


def newest_first(visits: Table, display_id: str, page_size: int, **query: Any) -> Iterator[dict]:
    """A display's visits, newest first (the byDisplay index), read `page_size` at a time as they
    are consumed; `query` adds to the Query (a ProjectionExpression, say)."""
    return paging.items(
        visits.query,
        IndexName=DISPLAY_INDEX,
        KeyConditionExpression=Key("displayId").eq(display_id),
        ScanIndexForward=False,
        Limit=page_size,
        **query,
    )


def mark_deleting(visits: Table, visit_id: str) -> None:
    """Stop every later pipeline step from touching the visit (see DELETING)."""
    visits.update_item(
        Key={"visitId": visit_id},
        UpdateExpression="SET #s = :deleting",
        ConditionExpression="attribute_exists(visitId)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":deleting": DELETING},
    )


def get_visit(visits: Table, visit_id: str) -> dict | None:
    return visits.get_item(Key={"visitId": visit_id}, ConsistentRead=True).get("Item")


def claim(visits: Table, visit_id: str, display_id: str, execution_arn: str) -> dict:
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


def finish(visits: Table, visit_id: str, status: str, fields: dict) -> dict | None:
    """Record a final REJECTED or FAILED state. Returns None when the visit is gone (deleted by
    the visitor) or already final, so a late failure never overwrites a result."""
    names = {"#s": "status"}
    values = {":status": status, ":now": now_iso(), ":waiting": WAITING, ":processing": PROCESSING}
    sets = ["#s = :status", "finishedAt = :now"]
    for i, (k, v) in enumerate(fields.items()):
        names[f"#f{i}"] = k
        values[f":f{i}"] = v
        sets.append(f"#f{i} = :f{i}")
    return update_if(
        visits,
        visit_id,
        UpdateExpression="SET " + ", ".join(sets),
        ConditionExpression="attribute_exists(visitId) AND #s IN (:waiting, :processing)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def viewer_view(visit: dict) -> ViewerView:
    """What a phone that scanned the wall may see: what the wall shows, and no visit id."""
    keep = ("displayId", "theme", "language", "status", "story", "title", "viewExpiresAt")
    # The item's stored fields, as the contract names them (checked end to end by the tests).
    return cast("ViewerView", {k: plain(visit[k]) for k in keep if k in visit})


def public_view(visit: dict) -> VisitView:
    """What the visit's tablet or its owner may see of a visit."""
    keep = (
        "visitId",
        "displayId",
        "theme",
        "language",
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
    view = {k: plain(visit[k]) for k in keep if k in visit}
    # The visit waits for an endpoint to get an instance (a cold start takes minutes).
    view["warmingUp"] = bool(visit.get("warmingUp")) and visit.get("status") == PROCESSING
    if visit.get("status") == REJECTED and visit.get("reason") and visit.get("language") == "ko":
        # The refusal in Korean when the visitor chose it (errors.py holds both); the stored
        # sentence is English, and may say more (the photo's size, say).
        view["message"] = errors.sentence(str(visit["reason"]), "ko") or view.get("message")
    return cast("VisitView", view)


# As long as a portrait image URL (display.IMAGE_URL_SECONDS): the page plays both together.
AUDIO_URL_SECONDS = 3600


def audio_url(s3: S3Client, bucket: str, visit: dict) -> str | None:
    """A presigned GET of the story's audio for a DONE visit that has one, else None.

    Only a catalog object is ever signed: the key comes from the catalog item through the
    pipeline, and GetVisit's role may read catalog/*.mp3 only, so a key anywhere else would
    be a URL that cannot load (and must not be handed out)."""
    key = str(visit.get("audioKey") or "")
    if visit.get("status") != DONE or not key.startswith("catalog/") or not key.endswith(".mp3"):
        return None
    return s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=AUDIO_URL_SECONDS)


def plain(v: Any) -> Any:
    """DynamoDB resources return Decimal for numbers; JSON responses want int and float."""
    if isinstance(v, Decimal):
        return int(v) if v == int(v) else float(v)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v
