"""The portrait catalog: approved portraits per theme, and the choice for one visit.

Matching. The theme is fixed by the visitor's choice on the tablet; within it a portrait is
matched on three traits of the visitor's face (see face_traits): gender, skin tone and age band,
in that order of importance. LADDER lists the rungs from the best match down to the theme alone;
the first rung with a portrait that the display has not shown recently wins:

    1 gender+skinTone+ageBand   5 skinTone+ageBand
    2 gender+skinTone           6 skinTone
    3 gender+ageBand            7 ageBand
    4 gender                    8 theme

Why this order: the face engine puts the visitor's face onto the portrait's head, hair, neck and
hands, so a portrait of the other gender looks most wrong and is given up last. A neck and hands
of another skin tone around the visitor's own face are plain to see, and visitors notice being
shown with another skin than being shown older or younger, so skin tone comes before age. The
age band comes last: it is coarse, Rekognition's age ranges are wide, and the swapped face keeps
the visitor's own age anyway. Every subset of the three traits is a rung, ordered as a binary
number (gender, skin tone, age band), so a rung never gives up a more important trait to keep a
less important one.

A rung needs the visitor's trait to be known (a greyscale photo has no skin tone) and the
portrait's to match it: a portrait's "any" is a match for every visitor; a missing attribute (old
bundled items have no skinTone) is unknown, which matches nothing specific, but such a portrait
is still a candidate on the rungs that do not need that attribute.

No repeats: a display never shows a portrait that it showed in its last NO_REPEAT finished
visits; a rung whose portraits were all shown recently is skipped. Gender is never given up to
avoid a repeat: when the theme has portraits of the visitor's gender and all of them were shown
recently, the visitor gets the least recently shown of them (on the best rung that has one)
rather than a new portrait of another gender. Otherwise a repeat happens only when every
candidate was shown recently (a catalog of NO_REPEAT portraits or fewer). With the generated
catalogs (every gender x skin tone x age cell, twice) neither happens.

The pick within a rung is a stable function of the visit id, so a retried step picks the same
portrait (given the same catalog and display history).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping
from typing import Any

from boto3.dynamodb.conditions import Attr

from gallery import catalog_items
from gallery import visits as visit_records
from gallery.contracts import ChosenPortrait
from gallery.errors import NoPortraitAvailable

APPROVED = catalog_items.APPROVED
# Rekognition's estimated age range, by its midpoint, to the catalog's bands (upper bounds,
# exclusive; older is "senior"). The catalog has no children's portraits: under 18 is "young".
AGE_BANDS = ((35, "young"), (60, "adult"))
# A display shows none of its last NO_REPEAT portraits again. Eight displays stand side by side
# and a visitor watches a few visits before their own; 6 is about a quarter of an hour of one
# display at a busy event, and a third of the smallest catalog generated per gender (12).
NO_REPEAT = 6
# How many of the display's visits are read to find its last NO_REPEAT shown portraits: rejected
# and failed visits sit between them. Bounded, so a display with many refusals costs a few reads.
HISTORY_PAGES = 3

MATCHED = ("gender", "skinTone", "ageBand")  # in order of importance
LADDER: tuple[tuple[str, ...], ...] = (
    ("gender", "skinTone", "ageBand"),
    ("gender", "skinTone"),
    ("gender", "ageBand"),
    ("gender",),
    ("skinTone", "ageBand"),
    ("skinTone",),
    ("ageBand",),
    (),
)
ANY = "any"


def rung_name(rung: tuple[str, ...]) -> str:
    """The rung's name: "gender+skinTone+ageBand" ... "theme" (the last rung, the theme alone)."""
    return "+".join(rung) or "theme"


RUNGS = tuple(rung_name(r) for r in LADDER)


def age_band(age_range: dict | None) -> str | None:
    if not age_range:
        return None
    mid = (age_range["low"] + age_range["high"]) / 2
    return next((band for upper, band in AGE_BANDS if mid < upper), "senior")


def approved(catalog: Any, theme: str) -> list[dict]:
    return catalog_items.of_theme(catalog, theme, FilterExpression=Attr("status").eq(APPROVED))


def matches(portrait: dict, trait: str, wanted: str | None) -> bool:
    """Whether the portrait suits a visitor's trait. An unknown on either side matches nothing."""
    value = portrait.get(trait)
    if not wanted or not value:
        return False
    value = str(value).lower()
    return value == ANY or value == wanted.lower()


def _pick(pool: list[dict], visit_id: str) -> dict:
    ordered = sorted(pool, key=lambda p: p["portraitId"])
    return ordered[int(hashlib.sha256(visit_id.encode()).hexdigest(), 16) % len(ordered)]


def _rungs(traits: dict) -> list[tuple[str, ...]]:
    """The rungs this visitor can stand on: those whose traits are all known."""
    return [r for r in LADDER if all(traits.get(t) for t in r)]


def choose(candidates: list[dict], visit_id: str, traits: dict, recent: list[str] | None = None) -> tuple[dict, str]:
    """(portrait, rung name) for a visitor with `traits` (gender, skinTone, ageBand; any may be
    missing) on a display whose last shown portraits are `recent`, newest first. See the
    module's docstring for the ladder and the no-repeat rule."""
    if not candidates:
        raise NoPortraitAvailable()
    recent = list(recent or [])
    shown = set(recent)
    rungs = _rungs(traits)
    own_gender = [p for p in candidates if matches(p, "gender", traits.get("gender"))]
    for rung in rungs:
        if own_gender and "gender" not in rung:
            break  # a repeat in the visitor's own gender beats a new portrait of another
        fresh = [
            p for p in candidates if p["portraitId"] not in shown and all(matches(p, t, traits.get(t)) for t in rung)
        ]
        if fresh:
            return _pick(fresh, visit_id), rung_name(rung)
    # Every candidate that may be chosen was shown recently: the best rung's least recently
    # shown portrait.
    for rung in rungs:
        pool = [p for p in candidates if all(matches(p, t, traits.get(t)) for t in rung)]
        if pool:
            oldest = max(recent.index(p["portraitId"]) for p in pool)
            return next(p for p in pool if p["portraitId"] == recent[oldest]), rung_name(rung)
    raise AssertionError("the last rung, theme, matches every candidate")  # pragma: no cover


def last_portraits(visits: Any, display_id: str, k: int = NO_REPEAT) -> list[str]:
    """The portraits of the display's last `k` finished (DONE) visits, newest first."""
    read = visit_records.newest_first(
        visits,
        display_id,
        4 * k,
        ProjectionExpression="#s, portraitId",
        ExpressionAttributeNames={"#s": "status"},
    )
    shown: list[str] = []
    for v in itertools.islice(read, HISTORY_PAGES * 4 * k):
        if v.get("status") == visit_records.DONE and v.get("portraitId"):
            shown.append(str(v["portraitId"]))
            if len(shown) == k:
                break
    return shown


def face_traits(face: Mapping[str, Any]) -> dict:
    """What matching needs from CropFace's description of the face: the gender, a coarse age
    band (never the estimated ages themselves) and the measured skin tone group, each only when
    known."""
    # Imported here: skin_tone brings numpy, which ChoosePortrait (it imports this module) does
    # not need and would pay for at every cold start.
    from gallery.skin_tone import GROUPS

    traits = {}
    if face.get("gender"):
        traits["gender"] = str(face["gender"]).lower()
    band = age_band(face.get("ageRange"))
    if band:
        traits["ageBand"] = band
    if face.get("skinTone") in GROUPS:
        traits["skinTone"] = face["skinTone"]
    return traits


def remember_traits(visits: Any, visit_id: str, traits: dict) -> bool:
    """Keep the face's traits on the visit item for ChoosePortrait. They travel this way, not
    in the state machine's state, because execution history keeps every state's input and
    output for 90 days, while the visit item goes when the visitor deletes the visit (or at
    its TTL). Returns False when the visit is gone or no longer processing."""
    if not traits:
        return True
    return _set_while_processing(visits, visit_id, "faceTraits", traits)


def _set_while_processing(visits: Any, visit_id: str, field: str, value: Any) -> bool:
    stored = visit_records.update_if(
        visits,
        visit_id,
        UpdateExpression="SET #f = :v",
        ConditionExpression="attribute_exists(visitId) AND #s = :processing",
        ExpressionAttributeNames={"#s": "status", "#f": field},
        ExpressionAttributeValues={":v": value, ":processing": visit_records.PROCESSING},
    )
    return stored is not None


def visit_facts(visits: Any, visit_id: str) -> tuple[dict, str]:
    """(face traits, language) of a visit, from its item. A language the catalog does not have
    (or none) is the default one."""
    item = (
        visits.get_item(
            Key={"visitId": visit_id},
            ConsistentRead=True,
            ProjectionExpression="faceTraits, #l",
            ExpressionAttributeNames={"#l": "language"},  # LANGUAGE is a DynamoDB reserved word
        ).get("Item")
        or {}
    )
    language = item.get("language")
    if language not in catalog_items.LANGUAGES:
        language = catalog_items.DEFAULT_LANGUAGE
    return dict(item.get("faceTraits") or {}), str(language)


def remember_match(visits: Any, visit_id: str, match: dict) -> bool:
    """Keep how the portrait was matched on the visit item (for operators and the benchmark).
    Not in the state: the rung with the portrait's gender would tell the visitor's gender to
    execution history. False when the visit is gone or no longer processing."""
    return _set_while_processing(visits, visit_id, "match", match)


def choose_portrait(catalog: Any, visits: Any, visit: Mapping[str, Any], no_repeat: int = NO_REPEAT) -> ChosenPortrait:
    """The portrait for a visit, with every field the state machine reads: its title, story and
    audio in the visit's language. A catalog item without an image cannot be swapped into, so it
    is never chosen; one without a title or story is used with empty ones. How it matched is
    written to the visit item (remember_match), not returned."""
    traits, language = visit_facts(visits, visit["visitId"])
    portrait, rung = choose(
        [p for p in approved(catalog, visit["theme"]) if p.get("key")],
        visit["visitId"],
        traits,
        last_portraits(visits, visit["displayId"], no_repeat) if no_repeat > 0 else [],
    )
    match = {"rung": rung, "language": language}
    match.update({t: str(portrait[t]) for t in MATCHED if portrait.get(t)})
    remember_match(visits, visit["visitId"], match)
    # Every field the state machine selects is always present (the text ones "" when missing).
    return {
        "portraitId": str(portrait["portraitId"]),
        "key": str(portrait["key"]),
        "title": catalog_items.title(portrait, language),
        "story": catalog_items.story(portrait, language),
        "audioKey": catalog_items.audio(portrait, language),
    }
