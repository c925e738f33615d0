"""What a display tile shows for a visit, and publishing it through the AppSync mutation
that display walls subscribe to (onDisplayUpdated)."""

from __future__ import annotations

import json
from typing import Any

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from gallery import keys

IMAGE_URL_SECONDS = 3600  # tiles re-read GET /displays every 10 s, which signs fresh URLs

PUBLISH_RESULT = """
mutation PublishResult($input: DisplayInput!) {
  publishResult(input: $input) {
    displayId visitId status imageUrl story title theme reason updatedAt
  }
}
"""


class PublishFailed(Exception):
    """AppSync refused or did not answer the mutation."""


def image_url(s3: Any, bucket: str, key: str) -> str:
    return s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=IMAGE_URL_SECONDS)


def tile(s3: Any, bucket: str, outcome: dict) -> dict:
    """The DisplayInput for a finished visit: the portrait when DONE, the reason otherwise."""
    visit = outcome["visit"]
    data = {
        "displayId": str(visit["displayId"]),
        "visitId": visit["visitId"],
        "status": outcome["status"],
        "theme": visit.get("theme"),
    }
    if outcome["status"] == "DONE":
        portrait = outcome.get("portrait") or {}
        data.update(
            imageUrl=image_url(s3, bucket, outcome["resultKey"]),
            story=portrait.get("story"),
            title=portrait.get("title"),
        )
    else:
        data["reason"] = outcome.get("message") or outcome.get("reason")
    return {k: v for k, v in data.items() if v is not None}


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


def publish(credentials: Any, region: str, url: str, display_input: dict) -> dict:
    return signed_graphql(credentials, region, url, PUBLISH_RESULT, {"input": display_input})["publishResult"]


def current(s3: Any, displays: Any, bucket: str) -> list[dict]:
    """Every display's state, with freshly signed image URLs (stored ones expire)."""
    items, kwargs = [], {}
    while True:
        page = displays.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    for item in items:
        if item.get("status") == "DONE" and item.get("visitId"):
            item["imageUrl"] = image_url(s3, bucket, keys.result_key(item["visitId"]))
    return sorted(items, key=lambda d: int(d["displayId"]) if str(d["displayId"]).isdigit() else 0)
