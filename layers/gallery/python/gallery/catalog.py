"""The portrait catalog: approved portraits per theme, and the choice for one visit."""

from __future__ import annotations

import hashlib
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

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


def choose_portrait(catalog: Any, visits: Any, visit: dict, face: dict) -> dict:
    portrait = choose(
        approved(catalog, visit["theme"]),
        visit["visitId"],
        face.get("gender"),
        age_band(face.get("ageRange")),
        last_portrait(visits, visit["displayId"]),
    )
    return {k: portrait[k] for k in ("portraitId", "key", "title", "story") if k in portrait}
