"""The portrait catalog: approved portraits per theme, and the choice for one visit."""

from __future__ import annotations

import hashlib
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from gallery import visits as visit_records
from gallery.errors import NoPortraitAvailable

APPROVED = "APPROVED"
AGE_BANDS = ((18, "child"), (35, "young"), (60, "adult"))  # upper bounds, exclusive; older is "senior"


def age_band(age_range: dict | None) -> str | None:
    if not age_range:
        return None
    mid = (age_range["low"] + age_range["high"]) / 2
    return next((band for upper, band in AGE_BANDS if mid < upper), "senior")


def approved(catalog: Any, theme: str) -> list[dict]:
    items, kwargs = (
        [],
        {"KeyConditionExpression": Key("theme").eq(theme), "FilterExpression": Attr("status").eq(APPROVED)},
    )
    while True:
        page = catalog.query(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def choose(candidates: list[dict], visit_id: str, gender: str | None, band: str | None, last_shown: str | None) -> dict:
    """Prefer portraits that match the visitor's gender and age band, then avoid the one the
    display showed last. The pick is a stable function of the visit id, so a retried step
    picks the same portrait."""
    if not candidates:
        raise NoPortraitAvailable()
    pool = candidates
    for wanted, field in ((gender, "gender"), (band, "ageBand")):
        if wanted:
            matching = [p for p in pool if str(p.get(field) or "any").lower() in (wanted.lower(), "any")]
            pool = matching or pool
    fresh = [p for p in pool if p["portraitId"] != last_shown]
    pool = sorted(fresh or pool, key=lambda p: p["portraitId"])
    index = int(hashlib.sha256(visit_id.encode()).hexdigest(), 16) % len(pool)
    return pool[index]


def last_portrait(visits: Any, display_id: str) -> str | None:
    """The portrait of the display's most recent finished visit."""
    page = visits.query(
        IndexName="byDisplay",
        KeyConditionExpression=Key("displayId").eq(display_id),
        ScanIndexForward=False,
        Limit=10,
    )
    return next((v["portraitId"] for v in page["Items"] if v.get("status") == "DONE" and "portraitId" in v), None)


def face_traits(face: dict) -> dict:
    """What matching needs from a DetectFaces description: the gender and a coarse age band,
    never the estimated ages themselves."""
    traits = {}
    if face.get("gender"):
        traits["gender"] = str(face["gender"]).lower()
    band = age_band(face.get("ageRange"))
    if band:
        traits["ageBand"] = band
    return traits


def remember_traits(visits: Any, visit_id: str, traits: dict) -> bool:
    """Keep the face's traits on the visit item for ChoosePortrait. They travel this way, not
    in the state machine's state, because execution history keeps every state's input and
    output for 90 days, while the visit item goes when the visitor deletes the visit (or at
    its TTL). Returns False when the visit is gone or no longer processing."""
    if not traits:
        return True
    stored = visit_records.update_if(
        visits,
        visit_id,
        UpdateExpression="SET faceTraits = :t",
        ConditionExpression="attribute_exists(visitId) AND #s = :processing",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":t": traits, ":processing": visit_records.PROCESSING},
    )
    return stored is not None


def traits_of(visits: Any, visit_id: str) -> dict:
    item = visits.get_item(Key={"visitId": visit_id}, ConsistentRead=True, ProjectionExpression="faceTraits").get(
        "Item"
    )
    return dict((item or {}).get("faceTraits") or {})


# Every field the state machine selects from ChoosePortrait's result is always present.
PORTRAIT_FIELDS = {"portraitId": "", "key": "", "title": "", "story": ""}


def choose_portrait(catalog: Any, visits: Any, visit: dict) -> dict:
    """The portrait for a visit, with every field the state machine reads. A catalog item
    without an image cannot be swapped into, so it is never chosen; one without a title or
    story is used with empty ones."""
    traits = traits_of(visits, visit["visitId"])
    portrait = choose(
        [p for p in approved(catalog, visit["theme"]) if p.get("key")],
        visit["visitId"],
        traits.get("gender"),
        traits.get("ageBand"),
        last_portrait(visits, visit["displayId"]),
    )
    return {k: str(portrait.get(k) or default) for k, default in PORTRAIT_FIELDS.items()}
