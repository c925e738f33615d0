"""The REST API's edges, over HTTP through the local API Gateway (Cognito tokens verified as API
Gateway does, then the real handlers): malformed bodies and ids get a 400 with a sentence, never
a 5xx, and the operator routes refuse a tablet's token on the server."""

from __future__ import annotations

import pytest
import requests

from gallery import api
from gallery_local.tablet import Tablet

OPERATOR = "operator-api-edges"
DISPLAY = "6"


@pytest.fixture(scope="module")
def operator_token(stack) -> str:
    """An operator signed in to the local pool, in the template's operators group."""
    return stack.operator_token(OPERATOR)


@pytest.fixture(scope="module")
def tablet(stack) -> Tablet:
    return Tablet(stack, DISPLAY)


def visits_of_display(stack) -> list[dict]:
    table = stack.table("VisitsTable")
    return table.query(
        IndexName="byDisplay",
        KeyConditionExpression="displayId = :d",
        ExpressionAttributeValues={":d": DISPLAY},
    )["Items"]


def send(stack, method: str, path: str, token: str | None = None, body: str | None = None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = token
    data = body.encode() if body is not None else None
    return requests.request(method, f"{stack.api.url}{path}", data=data, headers=headers, timeout=30)


# ---------------------------------------------------------------- bodies


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"theme": "painting", "consent": true', api.NOT_JSON),
        ("theme=painting&consent=true", api.NOT_JSON),
        ("\u00ff\u00fe{}", api.NOT_JSON),
        ("[" * 50_000, api.NOT_JSON),
        ('["painting", true]', api.NOT_AN_OBJECT),
        ("null", api.NOT_AN_OBJECT),
        ('"painting"', api.NOT_AN_OBJECT),
        ('{"theme": {"name": "painting"}, "consent": true}', "theme must be text."),
        ('{"theme": "painting", "consent": 1}', "consent must be true or false."),
    ],
)
def test_a_bad_body_on_post_visits_is_a_400_with_a_sentence_and_no_visit(stack, tablet, body: str, message: str):
    before = len(visits_of_display(stack))
    resp = send(stack, "POST", "/visits", tablet.token, body)
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"error": "BadRequest", "message": message}
    assert len(visits_of_display(stack)) == before


def test_a_good_body_still_starts_a_visit(stack, tablet):
    code, created = tablet.start_visit("travel")
    assert code == 201
    stored = stack.table("VisitsTable").get_item(Key={"visitId": created["visitId"]})["Item"]
    assert stored["displayId"] == DISPLAY and stored["status"] == "WAITING_FOR_PHOTO"


# ---------------------------------------------------------------- path ids


@pytest.mark.parametrize(
    "visit_id",
    ["abc", "0123456789ABCDEF0123456789ABCDEF", "0" * 31 + "g", "0" * 33, "x" * 5000, "%2e%2e", "0" * 32 + "%00"],
)
def test_a_malformed_visit_id_is_a_400_with_a_sentence(stack, tablet, visit_id: str):
    resp = send(stack, "GET", f"/visits/{visit_id}", tablet.token)
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"error": "BadRequest", "message": api.BAD_VISIT_ID}
    # Deleting is refused too: by the id check, or before it by whatever the route asks first.
    resp = send(stack, "DELETE", f"/visits/{visit_id}", tablet.token)
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.json().get("message")


def test_a_well_formed_unknown_visit_is_a_404_with_a_sentence(stack, tablet):
    resp = send(stack, "GET", "/visits/" + "0" * 32, tablet.token)
    assert resp.status_code == 404
    assert resp.json()["error"] == "VisitNotFound" and resp.json()["message"]


def test_no_edge_of_any_route_is_a_5xx(stack, tablet, operator_token):
    bodies = [None, "", "{", "[]", "null", '{"theme": 3}', "\x00", "{}" * 1000]
    routes = [
        ("POST", "/visits"),
        ("GET", "/visits"),
        ("GET", "/visits/nope"),
        ("DELETE", "/visits/nope"),
        ("GET", "/displays"),
        ("POST", "/displays/nope/refresh"),
        ("POST", "/displays/0/refresh"),
    ]
    answers = []
    for method, path in routes:
        for token in (None, tablet.token, operator_token):
            for body in bodies:
                resp = send(stack, method, path, token, body)
                answers.append((method, path, token is not None, body, resp.status_code))
                if resp.status_code >= 400:
                    assert resp.json().get("message"), (method, path, body, resp.text)
    assert [a for a in answers if a[-1] >= 500] == []


# ---------------------------------------------------------------- the operator routes


def test_a_tablet_token_is_forbidden_on_the_operator_routes(stack, tablet):
    published = len(stack.appsync.published("3"))
    for method, path in (("GET", "/visits"), ("POST", "/displays/3/refresh")):
        resp = send(stack, method, path, tablet.token)
        assert resp.status_code == 403, resp.text
        assert resp.json() == {"error": "Forbidden", "message": "Only operators may do this."}
        # Without any token, API Gateway's authorizer refuses before the handler runs.
        assert send(stack, method, path).status_code == 401
    assert len(stack.appsync.published("3")) == published


def test_an_operator_token_lists_visits_and_refreshes_a_display(stack, tablet, operator_token):
    code, created = tablet.start_visit("animation")
    assert code == 201
    resp = send(stack, "GET", f"/visits?displays={DISPLAY}&limit=200", operator_token)
    assert resp.status_code == 200, resp.text
    listed = {v["visitId"]: v for v in resp.json()["visits"]}
    assert listed[created["visitId"]]["status"] == "WAITING_FOR_PHOTO"
    assert {v["visitId"] for v in visits_of_display(stack)} <= set(listed)

    published = len(stack.appsync.published("3"))
    resp = send(stack, "POST", "/displays/3/refresh", operator_token)
    assert resp.status_code == 200, resp.text
    assert resp.json()["display"]["displayId"] == "3"
    after = stack.appsync.published("3")
    assert len(after) == published + 1 and after[-1]["displayId"] == "3"


def test_an_operator_still_gets_a_400_for_a_malformed_display_id(stack, operator_token):
    for display_id in ("03", "0", "three", "1000"):
        resp = send(stack, "POST", f"/displays/{display_id}/refresh", operator_token)
        assert resp.status_code == 400, resp.text
        assert resp.json() == {"error": "BadRequest", "message": api.BAD_DISPLAY_ID}
