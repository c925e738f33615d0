"""What a display tile shows for a visit, and publishing it through the AppSync mutation
that display walls subscribe to (onDisplayUpdated).

The wall is public, so nothing it receives names the visit: the stored state keeps the visit id
(a visitor's delete clears the tile by it), but the Display type has no such field, the image is
a copy named by the view token, and the QR code carries only that expiring token."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from gallery import keys, paging, visits
from gallery.contracts import Display

# A display that has shown nothing yet, or was reset: the wall shows the default art.
DEFAULT = "DEFAULT"
# A visit that waits for an endpoint instance (a cold start takes minutes): the tile says so in
# the visit's language, over the default art, until the final tile replaces it.
WARMING_UP = "WARMING_UP"

IMAGE_URL_SECONDS = 3600  # tiles re-read GET /displays every 10 s, which signs fresh URLs

PUBLISH_RESULT = """
mutation PublishResult($input: DisplayInput!) {
  publishResult(input: $input) {
    displayId status imageUrl story title language theme reason viewToken viewExpiresAt updatedAt
  }
}
"""


class PublishFailed(Exception):
    """AppSync refused or did not answer the mutation."""


def image_url(s3: Any, bucket: str, key: str) -> str:
    return s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=IMAGE_URL_SECONDS)


def tile(
    s3: Any, bucket: str, outcome: Mapping[str, Any], view: dict | None = None, language: str | None = None
) -> dict:
    """The DisplayInput for a finished visit: the portrait when DONE (with its view link), the
    reason otherwise; for a visit still waiting for an endpoint (WARMING_UP), only its theme and
    language. visitId goes into the stored state only; the Display type never returns it.

    A DONE tile carries the language of its title and story (the wall sets `lang` on them, for
    the font and for screen readers): the portrait's own when ChoosePortrait says which it used,
    else the visit's (`language`, read from the visit item, or the event's)."""
    visit = outcome["visit"]
    data = {
        "displayId": str(visit["displayId"]),
        "visitId": visit["visitId"],
        "status": outcome["status"],
        "theme": visit.get("theme"),
    }
    if outcome["status"] == visits.DONE:
        portrait = outcome.get("portrait") or {}
        data.update(
            story=portrait.get("story"),
            title=portrait.get("title"),
            language=portrait.get("language") or language or visit.get("language"),
        )
        if view:
            data.update(
                imageUrl=image_url(s3, bucket, keys.wall_image_key(view["viewToken"])),
                viewToken=view["viewToken"],
                viewExpiresAt=int(view["viewExpiresAt"]),
            )
    elif outcome["status"] == WARMING_UP:
        data["language"] = language or visit.get("language")
    else:
        data["reason"] = outcome.get("message") or outcome.get("reason")
    return {k: v for k, v in data.items() if v is not None}


def show(s3: Any, visit_table: Any, bucket: str, outcome: Mapping[str, Any]) -> dict | None:
    """The tile to publish for a finished visit, or None when the visit may not be shown any more
    (the visitor deleted it, or is deleting it, while the pipeline ran)."""
    if outcome["status"] != visits.DONE:
        return tile(s3, bucket, outcome)
    visit_id = outcome["visit"]["visitId"]
    view = visits.open_view_link(visit_table, visit_id)
    if view is None:
        return None
    wall_key = keys.wall_image_key(view["viewToken"])
    s3.copy_object(
        Bucket=bucket,
        Key=wall_key,
        CopySource={"Bucket": bucket, "Key": outcome["resultKey"]},
        ContentType="image/png",
        MetadataDirective="REPLACE",
    )
    # A delete that began while the copy was made has already removed what it knew of: the copy
    # is this step's to remove, and nothing is shown.
    now = visits.get_visit(visit_table, visit_id)
    if now is None or now.get("status") != visits.DONE:
        s3.delete_object(Bucket=bucket, Key=wall_key)
        return None
    return tile(s3, bucket, outcome, view, now.get("language"))


def signed_graphql(credentials: Any, region: str, url: str, query: str, variables: dict, timeout: float = 5.0) -> dict:
    """POST a GraphQL operation with SigV4 (the pipeline calls AppSync with its IAM role)."""
    body = json.dumps({"query": query, "variables": variables})
    req = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(credentials, "appsync", region).add_auth(req)
    try:
        resp = requests.post(url, data=body, headers=dict(req.headers), timeout=timeout)
    except requests.RequestException as e:
        raise PublishFailed(f"AppSync did not answer: {e}") from e
    if resp.status_code != 200:
        raise PublishFailed(f"AppSync answered {resp.status_code}: {resp.text[:300]}")
    result = resp.json()
    if result.get("errors"):
        raise PublishFailed(f"AppSync refused the mutation: {result['errors']}")
    return result["data"]


def publish(credentials: Any, region: str, url: str, display_input: Mapping[str, Any]) -> Display:
    return signed_graphql(credentials, region, url, PUBLISH_RESULT, {"input": display_input})["publishResult"]


PUBLIC_FIELDS = ("displayId", "status", "story", "title", "language", "theme", "reason", "updatedAt")


def public_tile(s3: Any, bucket: str, item: dict, now: float | None = None) -> dict:
    """What anyone may read of a display's stored state: what the wall shows, a freshly signed
    URL of the wall's copy of the image, and the view token while it lasts. Never the visit id."""
    out = {k: visits.plain(item[k]) for k in PUBLIC_FIELDS if item.get(k) is not None}
    token = item.get("viewToken")
    if item.get("status") == visits.DONE and token:
        out["imageUrl"] = image_url(s3, bucket, keys.wall_image_key(str(token)))
        until = int(item.get("viewExpiresAt") or 0)
        if until > (time.time() if now is None else now):
            out.update(viewToken=str(token), viewExpiresAt=until)
    return out


def current(s3: Any, displays: Any, bucket: str) -> list[dict]:
    """Every display's public state, with freshly signed image URLs (stored ones expire)."""
    tiles = [public_tile(s3, bucket, item) for item in paging.items(displays.scan)]
    return sorted(tiles, key=lambda d: int(d["displayId"]) if str(d["displayId"]).isdigit() else 0)
