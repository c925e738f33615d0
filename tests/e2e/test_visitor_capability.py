"""Only the visitor can delete; nobody can harvest; deleting really deletes. On the local stack
with IAM enforced: the owner secret from POST /visits is the only thing that deletes, nothing a
client can read from the wall or the public APIs names a visit, and the wall's view link expires."""

from __future__ import annotations

import json
import time

import pytest
import requests

from gallery_local.demo import DEMO
from gallery_local.tablet import Tablet

VISITOR = (DEMO / "photos" / "visitor-a.jpg").read_bytes()
DISPLAY = 8
PUBLIC_FIELDS = "displayId status imageUrl story title theme reason viewToken viewExpiresAt updatedAt"


def every_key(stack) -> list[str]:
    pages = stack.client("s3").get_paginator("list_objects_v2").paginate(Bucket=stack.bucket)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def every_item(stack) -> list[dict]:
    """Every item of every table the template declares."""
    ddb = stack.client("dynamodb")
    items = []
    for name in ddb.list_tables()["TableNames"]:
        for page in ddb.get_paginator("scan").paginate(TableName=name):
            items += page["Items"]
    return items


def graphql(stack, query: str, variables: dict | None = None) -> dict:
    # The wall's credentials: the public API key that /config.json hands every page.
    resp = requests.post(
        stack.appsync.url,
        json={"query": query, "variables": variables or {}},
        headers={"x-api-key": stack.appsync.auth.api_key},
        timeout=10,
    )
    return resp.json()


@pytest.fixture(scope="module")
def done(stack):
    """A finished visit on display 8, with everything a subscriber of the wall received."""
    received: list[str] = []
    stack.appsync.subscribe(lambda field, value, document: received.append(json.dumps(value)))
    visit = Tablet(stack, DISPLAY).visit(VISITOR, "painting")
    assert visit.status == "DONE", visit.view
    assert visit.owner_secret
    # The tablet sees DONE as soon as the visit item says so; the wall is told a step later.
    arn = stack.table("VisitsTable").get_item(Key={"visitId": visit.visit_id})["Item"]["executionArn"]
    assert stack.wait_execution(arn)["status"] == "SUCCEEDED"
    return visit, received


def test_nothing_public_names_the_visit(stack, done):
    visit, received = done
    api = stack.api.url
    displays = requests.get(f"{api}/displays", timeout=10)
    assert displays.status_code == 200
    tile = next(d for d in displays.json()["displays"] if d["displayId"] == str(DISPLAY))
    assert tile["status"] == "DONE" and tile["viewToken"] and tile["imageUrl"]
    listed = graphql(stack, f"{{ listDisplays {{ {PUBLIC_FIELDS} }} }}")
    one = graphql(stack, f'{{ getDisplay(displayId: "{DISPLAY}") {{ {PUBLIC_FIELDS} }} }}')
    assert one["data"]["getDisplay"]["viewToken"] == tile["viewToken"]
    # What the wall's subscription delivered for this visit (the mutation's selection).
    assert any(tile["viewToken"] in r for r in received)
    view = requests.get(f"{api}/views/{tile['viewToken']}", timeout=10)
    assert view.status_code == 200 and view.json()["title"]
    for text in (displays.text, json.dumps(listed), json.dumps(one), view.text, *received):
        assert visit.visit_id not in text
    # Asking for the id outright is not even a valid query.
    for query in ("{ listDisplays { displayId visitId } }", "subscription { onDisplayUpdated { visitId } }"):
        errors = graphql(stack, query)["errors"]
        assert "visitId" in errors[0]["message"]


def test_only_the_tablet_of_its_display_follows_a_visit(stack, done):
    visit, _ = done
    url = f"{stack.api.url}/visits/{visit.visit_id}"
    assert requests.get(url, timeout=10).status_code == 401
    other = requests.get(url, headers={"Authorization": stack.tablet_token(1)}, timeout=10)
    assert other.status_code == 403
    own = requests.get(url, headers={"Authorization": stack.tablet_token(DISPLAY)}, timeout=10)
    assert own.status_code == 200 and own.json()["status"] == "DONE"
    assert "ownerSecret" not in own.text and "ownerHash" not in own.text
    owner = requests.get(f"{url}/owner", headers={"Authorization": f"Owner {visit.owner_secret}"}, timeout=10)
    assert owner.status_code == 200 and owner.json()["owner"] is True
    stranger = requests.get(f"{url}/owner", headers={"Authorization": "Owner " + "x" * 32}, timeout=10)
    assert stranger.status_code == 403


def test_the_view_link_expires(stack, done):
    visit, _ = done
    visits = stack.table("VisitsTable")
    token = visits.get_item(Key={"visitId": visit.visit_id})["Item"]["viewToken"]
    assert requests.get(f"{stack.api.url}/views/{token}", timeout=10).status_code == 200
    until = visits.get_item(Key={"visitId": visit.visit_id})["Item"]["viewExpiresAt"]
    visits.update_item(
        Key={"visitId": visit.visit_id},
        UpdateExpression="SET viewExpiresAt = :t",
        ExpressionAttributeValues={":t": int(time.time()) - 1},
    )
    try:
        expired = requests.get(f"{stack.api.url}/views/{token}", timeout=10)
        assert expired.status_code == 404
        assert "expired" in expired.json()["message"]
        assert "imageUrl" not in expired.text
    finally:
        visits.update_item(
            Key={"visitId": visit.visit_id},
            UpdateExpression="SET viewExpiresAt = :t",
            ExpressionAttributeValues={":t": until},
        )


def test_a_stranger_cannot_delete_and_the_owner_deletes_everything(stack, done):
    visit, _ = done
    url = f"{stack.api.url}/visits/{visit.visit_id}"
    token = stack.table("VisitsTable").get_item(Key={"visitId": visit.visit_id})["Item"]["viewToken"]
    before = [k for k in every_key(stack) if visit.visit_id in k or token in k]
    assert f"results/{visit.visit_id}.png" in before and f"wall/{token}.png" in before

    for headers in (
        {},
        {"Authorization": "Owner wrong-secret"},
        {"Authorization": f"Owner {token}"},
        {"Authorization": stack.tablet_token(DISPLAY)},
    ):
        refused = requests.delete(url, headers=headers, timeout=10)
        assert refused.status_code == 403, (headers, refused.text)
    # The view token is not a visit id either.
    assert requests.delete(f"{stack.api.url}/visits/{token}", timeout=10).status_code == 400
    assert sorted(k for k in every_key(stack) if visit.visit_id in k or token in k) == sorted(before)
    assert stack.table("VisitsTable").get_item(Key={"visitId": visit.visit_id}).get("Item")

    owner = {"Authorization": f"Owner {visit.owner_secret}"}
    deleted = requests.delete(url, headers=owner, timeout=10)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["deleted"] is True and deleted.json()["displayCleared"] is True

    assert [k for k in every_key(stack) if visit.visit_id in k or token in k] == []
    assert [i for i in every_item(stack) if visit.visit_id in json.dumps(i) or token in json.dumps(i)] == []
    tile = stack.table("DisplaysTable").get_item(Key={"displayId": str(DISPLAY)}).get("Item")
    assert tile is None or tile.get("visitId") != visit.visit_id
    assert requests.get(f"{stack.api.url}/views/{token}", timeout=10).status_code == 404
    # A retry (the visitor tapped twice, or the answer was lost) says the same, and is harmless.
    again = requests.delete(url, headers=owner, timeout=10)
    assert again.status_code == 200 and again.json()["deleted"] is True
