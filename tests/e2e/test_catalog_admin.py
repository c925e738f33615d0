"""The catalog review API over HTTP on the local stack (Cognito tokens verified as API Gateway
does, the real handler with its own role): operators only, a decision changes the item, and the
function's role may do what the page needs and nothing more."""

from __future__ import annotations

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from gallery_local import template as tpl
from gallery_local.demo import DEMO
from gallery_local.iam_local import session_credentials

OPERATOR = "operator-catalog-e2e"
THEME = "realistic"
ROLE = "CatalogAdminFunctionRole"
PORTRAIT = (DEMO / "portraits" / "bergendahl.jpg").read_bytes()
ITEMS = {
    "e2e-review-pending": {"status": "PENDING_REVIEW", "gender": "female", "ageBand": "adult", "skinTone": "light"},
    "e2e-review-auto": {"status": "REJECTED", "reviewReason": "FaceTooSmall", "gender": "male", "ageBand": "senior"},
    "e2e-review-filtered": {"status": "FILTERED", "filterReason": "Bedrock content filter"},
}


@pytest.fixture(scope="module")
def operator_token(stack) -> str:
    """An operator signed in to the local pool, in the template's operators group."""
    return stack.operator_token(OPERATOR)


@pytest.fixture
def items(stack):
    """A few items of the theme, with a real portrait; removed again so that no later visit is
    matched with a portrait this test approved."""
    table, s3 = stack.table("CatalogTable"), stack.client("s3")
    for pid, fields in ITEMS.items():
        key = f"catalog/{THEME}/{pid}.jpg"
        s3.put_object(Bucket=stack.bucket, Key=key, Body=PORTRAIT, ContentType="image/jpeg")
        table.put_item(Item={"theme": THEME, "portraitId": pid, "key": key, "titleEn": pid, **fields})
    yield table
    for pid in ITEMS:
        table.delete_item(Key={"theme": THEME, "portraitId": pid})
        s3.delete_object(Bucket=stack.bucket, Key=f"catalog/{THEME}/{pid}.jpg")


def send(stack, method: str, path: str, token: str | None, body: dict | None = None) -> requests.Response:
    headers = {"Authorization": token} if token else {}
    return requests.request(method, f"{stack.api.url}{path}", json=body, headers=headers, timeout=30)


def as_role(stack, service: str):
    creds = session_credentials(stack.iam.credentials(stack.iam.role_arns[ROLE]))
    return boto3.session.Session(**creds).client(service, endpoint_url=stack.endpoint, region_name=tpl.REGION)


def test_only_operators_may_list_or_decide(stack, items, operator_token):
    tablet = stack.tablet_token(4)
    decision = {"theme": THEME, "portraitIds": ["e2e-review-pending"], "decision": "APPROVED"}
    for method, path, body in (
        ("GET", f"/admin/catalog?theme={THEME}", None),
        ("POST", "/admin/catalog/decisions", decision),
    ):
        assert send(stack, method, path, None, body).status_code == 401
        refused = send(stack, method, path, tablet, body)
        assert refused.status_code == 403 and refused.json()["error"] == "Forbidden"
    assert items.get_item(Key={"theme": THEME, "portraitId": "e2e-review-pending"})["Item"]["status"] == (
        "PENDING_REVIEW"
    )

    listed = send(stack, "GET", f"/admin/catalog?theme={THEME}", operator_token)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    mine = {i["portraitId"]: i for i in body["items"] if i["portraitId"] in ITEMS}
    assert set(mine) == set(ITEMS) and mine["e2e-review-auto"]["reviewReason"] == "FaceTooSmall"
    # The presigned URL is signed by the function's role, and that role may read catalog/.
    image = requests.get(mine["e2e-review-pending"]["imageUrl"], timeout=10)
    assert image.status_code == 200 and image.content == PORTRAIT
    assert body["counts"][THEME]["status"]["FILTERED"] >= 1 and set(body["counts"]) >= {"painting", "travel"}

    assert send(stack, "GET", "/admin/catalog?theme=cubism", operator_token).status_code == 400


def test_a_decision_changes_the_item_and_refuses_what_cannot_be_decided(stack, items, operator_token):
    approve = {"theme": THEME, "portraitIds": ["e2e-review-pending", "e2e-review-auto"], "decision": "APPROVED"}
    resp = send(stack, "POST", "/admin/catalog/decisions", operator_token, approve)
    assert resp.status_code == 200, resp.text
    for pid in approve["portraitIds"]:
        item = items.get_item(Key={"theme": THEME, "portraitId": pid})["Item"]
        assert item["status"] == "APPROVED" and item["reviewedBy"] == OPERATOR and item["reviewedAt"]
        assert "reviewReason" not in item
    assert resp.json()["counts"][THEME]["approved"]["gender"].get("male", 0) >= 1

    reject = {"theme": THEME, "portraitIds": ["e2e-review-pending"], "decision": "REJECTED", "reason": "Blurred eyes"}
    assert send(stack, "POST", "/admin/catalog/decisions", operator_token, reject).status_code == 200
    item = items.get_item(Key={"theme": THEME, "portraitId": "e2e-review-pending"})["Item"]
    assert item["status"] == "REJECTED" and item["reviewReason"] == "Blurred eyes"

    # FILTERED has no usable portrait; an unknown id is reported, never created.
    bad = {"theme": THEME, "portraitIds": ["e2e-review-filtered", "e2e-review-ghost"], "decision": "APPROVED"}
    resp = send(stack, "POST", "/admin/catalog/decisions", operator_token, bad)
    assert resp.status_code == 409, resp.text
    assert {(r["portraitId"], r["error"]) for r in resp.json()["refused"]} == {
        ("e2e-review-filtered", "NotReviewable"),
        ("e2e-review-ghost", "NotFound"),
    }
    assert "FILTERED" in resp.json()["message"]
    assert items.get_item(Key={"theme": THEME, "portraitId": "e2e-review-filtered"})["Item"]["status"] == "FILTERED"
    assert "Item" not in items.get_item(Key={"theme": THEME, "portraitId": "e2e-review-ghost"})

    no_reason = {"theme": THEME, "portraitIds": ["e2e-review-auto"], "decision": "REJECTED"}
    resp = send(stack, "POST", "/admin/catalog/decisions", operator_token, no_reason)
    assert resp.status_code == 400 and resp.json()["message"] == "A rejection needs a reason."


def test_the_role_reaches_only_the_catalog_and_its_images(stack, items):
    ddb, s3 = as_role(stack, "dynamodb"), as_role(stack, "s3")
    names = stack.names
    catalog = names.name("CatalogTable")
    key = {"theme": {"S": THEME}, "portraitId": {"S": "e2e-review-pending"}}
    found = ddb.query(
        TableName=catalog,
        KeyConditionExpression="theme = :t",
        ExpressionAttributeValues={":t": {"S": THEME}},
    )
    assert found["Count"] >= len(ITEMS)
    denied = [
        lambda: ddb.scan(TableName=catalog),
        lambda: ddb.get_item(TableName=catalog, Key=key),
        lambda: ddb.put_item(TableName=catalog, Item={**key, "status": {"S": "APPROVED"}}),
        lambda: ddb.delete_item(TableName=catalog, Key=key),
        lambda: ddb.get_item(TableName=names.name("VisitsTable"), Key={"visitId": {"S": "0" * 32}}),
    ]
    for call in denied:
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException"

    assert s3.get_object(Bucket=stack.bucket, Key=f"catalog/{THEME}/e2e-review-pending.jpg")["Body"].read() == PORTRAIT
    stack.client("s3").put_object(Bucket=stack.bucket, Key="results/catalog-admin-check.png", Body=b"png")
    for call in (
        lambda: s3.get_object(Bucket=stack.bucket, Key="results/catalog-admin-check.png"),
        lambda: s3.put_object(Bucket=stack.bucket, Key=f"catalog/{THEME}/e2e-review-new.jpg", Body=b"x"),
        lambda: s3.delete_object(Bucket=stack.bucket, Key=f"catalog/{THEME}/e2e-review-pending.jpg"),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    # A URL it signs for a visitor's result does not open either.
    signed = s3.generate_presigned_url(
        "get_object", Params={"Bucket": stack.bucket, "Key": "results/catalog-admin-check.png"}
    )
    assert requests.get(signed, timeout=10).status_code == 403
