"""What operators see and do from the admin panel: recent visits, and re-publishing a tile."""

from __future__ import annotations

import itertools
from typing import Any

from gallery import display, keys, visits
from gallery.errors import BadRequest

OPERATORS = "operators"
MAX_DISPLAYS = 64
OPERATOR_FIELDS = ("executionArn", "cause", "claimedAt", "portraitId")
DISPLAY_FIELDS = (
    "displayId",
    "visitId",
    "status",
    "story",
    "title",
    "theme",
    "reason",
    "viewToken",
    "viewExpiresAt",
)


def groups(claims: dict) -> set[str]:
    """cognito:groups as API Gateway passes it (a string: "a", "a,b" or "[a b]") or as a list."""
    value = claims.get("cognito:groups") or []
    if isinstance(value, str):
        value = value.strip("[]").replace(",", " ").split()
    return {str(g) for g in value}


def is_operator(claims: dict) -> bool:
    return OPERATORS in groups(claims)


def display_ids(spec: str) -> list[str]:
    """ "1-8", "3" or "1,3,5-6" -> ["1", ...]; BadRequest otherwise."""
    out: list[str] = []
    for part in (spec or "").split(","):
        lo, _, hi = part.strip().partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise BadRequest("displays must look like 1-8 or 1,3,5.")
        out += [str(d) for d in range(int(lo), int(hi or lo) + 1) if str(d) not in out]
        if len(out) > MAX_DISPLAYS:
            raise BadRequest(f"At most {MAX_DISPLAYS} displays at once.")
    return out


def operator_view(visit: dict) -> dict:
    view: dict[str, Any] = {**visits.public_view(visit)}
    view.update({k: visits.plain(visit[k]) for k in OPERATOR_FIELDS if k in visit})
    return view


def recent_visits(visit_table: Any, displays: list[str], limit: int) -> list[dict]:
    """The newest visits of the displays (each display's newest `limit`, merged)."""
    items: list[dict] = []
    for display_id in displays:
        items += itertools.islice(visits.newest_first(visit_table, display_id, limit), limit)
    items.sort(key=lambda v: v.get("createdAt", ""), reverse=True)
    return [operator_view(v) for v in items[:limit]]


def stored_tile(s3: Any, displays: Any, bucket: str, display_id: str) -> dict:
    """A display's stored state as a DisplayInput, with a freshly signed image URL."""
    if not display_id.isdigit():
        raise BadRequest("A display id is a number.")
    item = displays.get_item(Key={"displayId": display_id}).get("Item") or {}
    tile = {k: visits.plain(item[k]) for k in DISPLAY_FIELDS if item.get(k) is not None}
    tile.update(displayId=display_id, status=tile.get("status") or display.DEFAULT)
    if tile["status"] == visits.DONE and tile.get("viewToken"):
        tile["imageUrl"] = display.image_url(s3, bucket, keys.wall_image_key(tile["viewToken"]))
    return tile
