"""The operators' review of the catalog: list a theme's items, approve or reject them, count them.

Three functions, called by the review page's API (functions/catalog_admin) and by the operators'
CLI (`gallery catalog approve | reject | status`) alike, so both read and write the same way:

- items(catalog_table, theme): every item of a theme, in portraitId order;
- decide(catalog_table, theme, portrait_ids, decision, reason, by, now): APPROVED or REJECTED;
- counts(catalog_table, themes): per theme, per status, and the APPROVED items' coverage.

They take the CatalogTable (a boto3 Table resource) as a parameter and only Query and UpdateItem
it: the API's role may do nothing else (template.yaml, CatalogAdminFunction). Field names and
statuses are catalog_items'."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from gallery import THEMES, catalog_items
from gallery.errors import BadRequest

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

DECISIONS = (catalog_items.APPROVED, catalog_items.REJECTED)
# One request decides at most this many: each is one conditional UpdateItem, and the API's
# handler must answer within API Gateway's 29 s.
MAX_IDS = 200
MAX_REASON = 200
# What counts() breaks APPROVED items down by: what ChoosePortrait matches a visitor on.
COVERAGE = ("gender", "ageBand", "skinTone")
UNKNOWN = "unknown"

NOT_FOUND = "NotFound"
NOT_REVIEWABLE = "NotReviewable"


def theme_of(value: object) -> str:
    """A theme from a request, or BadRequest: only the event's themes have a catalog."""
    if not isinstance(value, str) or value not in THEMES:
        raise BadRequest(f"theme must be one of {', '.join(THEMES)}.")
    return value


def items(catalog_table: Table, theme: str, statuses: tuple[str, ...] | None = None) -> list[dict]:
    """Every item of `theme` (all statuses, or only `statuses`), in portraitId order, as stored
    (numbers are Decimals; visits.plain turns them into JSON numbers)."""
    theme = theme_of(theme)
    kwargs: dict[str, Any] = {}
    if statuses:
        kwargs["FilterExpression"] = Attr("status").is_in(list(statuses))
    return catalog_items.of_theme(catalog_table, theme, **kwargs)


def _ids(portrait_ids: object) -> list[str]:
    if isinstance(portrait_ids, str):
        portrait_ids = [portrait_ids]
    if not isinstance(portrait_ids, (list, tuple)) or not portrait_ids:
        raise BadRequest("portraitIds must be a list of at least one portrait id.")
    if not all(isinstance(p, str) and p and len(p) <= 200 for p in portrait_ids):
        raise BadRequest("Every portrait id must be non-empty text.")
    unique = list(dict.fromkeys(portrait_ids))  # keeps the caller's order
    if len(unique) > MAX_IDS:
        raise BadRequest(f"At most {MAX_IDS} portraits at once.")
    return unique


def decide(
    catalog_table: Table,
    theme: object,
    portrait_ids: object,
    decision: object,
    reason: object,
    by: str,
    now: str,
) -> dict:
    """Approve or reject portraits of one theme.

    decision: "APPROVED" or "REJECTED"; a rejection needs a `reason` (kept as reviewReason, in
    place of any automatic one), an approval clears reviewReason. `by` is the reviewer (the
    operator's user name), `now` the time as ISO 8601 UTC (visits.now_iso()); both are recorded
    as reviewedBy and reviewedAt.

    Each item changes only if it exists and its status is one of catalog_items.REVIEWABLE
    (one conditional UpdateItem each, so an unknown id is never created and a FILTERED or
    FAILED item, which has no usable portrait, never becomes APPROVED). Returns
    {"decided": [the updated items], "refused": [{"portraitId", "error", "status", "message"}]}
    where error is "NotFound" or "NotReviewable". BadRequest for a malformed request, before
    anything is written."""
    theme = theme_of(theme)
    ids = _ids(portrait_ids)
    if decision not in DECISIONS:
        raise BadRequest(f"decision must be {' or '.join(DECISIONS)}.")
    if reason is not None and not isinstance(reason, str):
        raise BadRequest("reason must be text.")
    reason = (reason or "").strip()
    if decision == catalog_items.REJECTED and not reason:
        raise BadRequest("A rejection needs a reason.")
    if len(reason) > MAX_REASON:
        raise BadRequest(f"A reason has at most {MAX_REASON} characters.")
    if not by:
        raise BadRequest("The reviewer is unknown.")

    names = {"#s": "status", "#id": "portraitId"}
    values: dict[str, Any] = {":d": decision, ":at": now, ":by": by}
    values.update({f":r{i}": s for i, s in enumerate(catalog_items.REVIEWABLE)})
    reviewable = ", ".join(f":r{i}" for i in range(len(catalog_items.REVIEWABLE)))
    if decision == catalog_items.REJECTED:
        update = "SET #s = :d, reviewReason = :reason, reviewedAt = :at, reviewedBy = :by"
        values[":reason"] = reason
    else:
        update = "SET #s = :d, reviewedAt = :at, reviewedBy = :by REMOVE reviewReason"

    decided: list[dict] = []
    refused: list[dict] = []
    for portrait_id in ids:
        try:
            result = catalog_table.update_item(
                Key={"theme": theme, "portraitId": portrait_id},
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(#id) AND #s IN ({reviewable})",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                # Tells a missing id from an unreviewable one without a read the role lacks.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as e:
            if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old = e.response.get("Item")  # ALL_OLD of the item that failed the condition, if any
            refused.append(_refusal(portrait_id, old if isinstance(old, dict) else None))
            continue
        decided.append(result["Attributes"])
    return {"decided": decided, "refused": refused}


def _refusal(portrait_id: str, old: dict | None) -> dict:
    if not old:
        return {
            "portraitId": portrait_id,
            "error": NOT_FOUND,
            "status": None,
            "message": f"{portrait_id}: no such portrait in this theme.",
        }
    # ReturnValuesOnConditionCheckFailure gives the low-level form: {"status": {"S": "FAILED"}}.
    status = old.get("status")
    status = status.get("S") if isinstance(status, dict) else status
    return {
        "portraitId": portrait_id,
        "error": NOT_REVIEWABLE,
        "status": status,
        "message": f"{portrait_id} is {status}: it has no usable portrait, so it cannot be approved or rejected.",
    }


def counts(catalog_table: Table, themes: list[str] | tuple[str, ...]) -> dict[str, dict]:
    """Per theme: {"total": n, "status": {every status: n}, "approved": {"gender": {...},
    "ageBand": {...}, "skinTone": {...}}} where the last counts only APPROVED items (what
    visitors can be matched with); an item without a value counts as "unknown"."""
    out: dict[str, dict] = {}
    for theme in themes:
        found = catalog_items.of_theme(
            catalog_table,
            theme_of(theme),
            ProjectionExpression="#s, #g, #a, #t",
            ExpressionAttributeNames={"#s": "status", "#g": "gender", "#a": "ageBand", "#t": "skinTone"},
        )
        statuses = Counter(str(i.get("status") or UNKNOWN) for i in found)
        approved = [i for i in found if i.get("status") == catalog_items.APPROVED]
        out[theme] = {
            "total": len(found),
            "status": {s: statuses.get(s, 0) for s in catalog_items.STATUSES}
            | {s: n for s, n in statuses.items() if s not in catalog_items.STATUSES},
            "approved": {
                field: dict(sorted(Counter(str(i.get(field) or UNKNOWN) for i in approved).items()))
                for field in COVERAGE
            },
        }
    return out
