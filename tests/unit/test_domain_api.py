"""gallery.api: what every REST handler does with a body, a path id and the caller's groups
before any of its own code runs. The real create_visit and admin handlers are driven with the
sample events of events/ on moto, and the tables are read back to show nothing was written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gallery import api
from gallery.errors import BadRequest, Forbidden
from tests.unit._functions import LambdaContext, api_call, load_event
from tests.unit.conftest import create_visits_table

VISIT = "0123456789abcdef0123456789abcdef"


# ---------------------------------------------------------------- ids


@pytest.mark.parametrize("value", [VISIT, "f" * 32])
def test_a_visit_id_is_32_lowercase_hex(value: str):
    assert api.visit_id(value) == value


@pytest.mark.parametrize(
    "value",
    ["", "abc", VISIT.upper(), VISIT + "0", VISIT[:-1], VISIT[:-1] + "g", "../" + VISIT[3:], VISIT + "\n", None, 7],
)
def test_anything_else_is_a_400_with_a_sentence(value: object):
    with pytest.raises(BadRequest) as raised:
        api.visit_id(value)
    assert raised.value.message == api.BAD_VISIT_ID


@pytest.mark.parametrize("value", ["1", "8", "64", "999"])
def test_a_display_id_is_a_number_from_1(value: str):
    assert api.display_id(value) == value


@pytest.mark.parametrize("value", ["0", "03", "-1", "1000", "1.5", "one", "", " 3", "3 ", None])
def test_other_display_ids_are_refused(value: object):
    with pytest.raises(BadRequest) as raised:
        api.display_id(value)
    assert raised.value.message == api.BAD_DISPLAY_ID


# ---------------------------------------------------------------- the resolver, on a route of its own


def _probe(operators_only: bool = False) -> tuple[Any, list]:
    """A resolver with one route that records each call, so a test sees whether it ran."""
    app = api.resolver(operators_only=operators_only)
    reached: list = []

    @app.post("/visits/<visit_id>/things")
    def things(visit_id: str) -> dict:
        reached.append((visit_id, api.json_object(app.current_event, name=str, count=int, ok=bool)))
        return {"ok": True}

    return app, reached


def _event(body: str | None, visit_id: str = VISIT, claims: dict | None = None) -> dict:
    event = load_event("get_visit")
    event.update(
        httpMethod="POST",
        resource="/visits/{visitId}/things",
        path=f"/visits/{visit_id}/things",
        pathParameters={"visitId": visit_id},
        body=body,
    )
    event["requestContext"].update(httpMethod="POST", resourcePath="/visits/{visitId}/things")
    if claims is not None:
        event["requestContext"]["authorizer"] = {"claims": claims}
    return event


def _resolve(app: Any, event: dict) -> tuple[int, dict]:
    response = app.resolve(event, LambdaContext())
    return response["statusCode"], json.loads(response["body"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"name": "a",', api.NOT_JSON),
        ("{'name': 'a'}", api.NOT_JSON),
        ("not json at all", api.NOT_JSON),
        ("[" * 100_000, api.NOT_JSON),  # nested past the parser's recursion limit
        ("[]", api.NOT_AN_OBJECT),
        ('"a string"', api.NOT_AN_OBJECT),
        ("null", api.NOT_AN_OBJECT),
        ("42", api.NOT_AN_OBJECT),
        ('{"name": 3}', "name must be text."),
        ('{"count": "3"}', "count must be a number."),
        ('{"count": true}', "count must be a number."),
        ('{"ok": "yes"}', "ok must be true or false."),
    ],
)
def test_a_bad_body_is_a_400_with_a_sentence_and_the_route_returns_early(body: str, message: str):
    app, reached = _probe()
    status, answer = _resolve(app, _event(body))
    assert (status, answer) == (400, {"error": "BadRequest", "message": message})
    assert reached == []


def test_a_good_body_and_an_empty_one_reach_the_route():
    app, reached = _probe()
    assert _resolve(app, _event('{"name": "a", "count": 2, "ok": false, "extra": [1]}'))[0] == 200
    assert _resolve(app, _event(None))[0] == 200
    assert reached == [(VISIT, {"name": "a", "count": 2, "ok": False, "extra": [1]}), (VISIT, {})]


def test_a_bad_path_id_is_refused_before_the_route_runs():
    app, reached = _probe()
    status, answer = _resolve(app, _event("{}", visit_id="0123"))
    assert (status, answer) == (400, {"error": "BadRequest", "message": api.BAD_VISIT_ID})
    assert reached == []


def test_a_route_reading_json_body_itself_still_answers_400():
    app = api.resolver()

    @app.post("/visits/<visit_id>/things")
    def things(visit_id: str) -> dict:
        return app.current_event.json_body

    assert _resolve(app, _event("{oops")) == (400, {"error": "BadRequest", "message": api.NOT_JSON})


# ---------------------------------------------------------------- the operator check


@pytest.mark.parametrize(
    "groups",
    ["operators", "tablets,operators", "[tablets operators]", ["operators"], ["tablets", "operators"]],
)
def test_operators_pass_in_every_shape_api_gateway_sends_groups(groups: object):
    api.require_operator({"cognito:groups": groups})


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"cognito:groups": ""},
        {"cognito:groups": "tablets"},
        {"cognito:groups": ["tablets"]},
        {"cognito:groups": "operatorsx"},
        {"custom:displayId": "3"},
    ],
)
def test_anyone_else_is_forbidden(claims: dict):
    with pytest.raises(Forbidden):
        api.require_operator(claims)


def test_an_operators_only_resolver_refuses_a_tablet_before_the_route_and_before_ids():
    app, reached = _probe(operators_only=True)
    tablet = {"custom:displayId": "3", "token_use": "id"}
    # A tablet learns nothing about the route, not even that its id is malformed.
    for event in (_event("{}", claims=tablet), _event("{}", visit_id="bad", claims=tablet), _event("{}")):
        assert _resolve(app, event) == (403, {"error": "Forbidden", "message": Forbidden.default_message})
    assert reached == []
    assert _resolve(app, _event("{}", claims={**tablet, "cognito:groups": "operators"}))[0] == 200
    assert len(reached) == 1


# ---------------------------------------------------------------- the real handlers


@pytest.fixture
def visits_table(aws_session, monkeypatch: pytest.MonkeyPatch):
    table = create_visits_table(aws_session.resource("dynamodb"), "visits")
    aws_session.client("s3").create_bucket(Bucket="photos")
    for name, value in {
        "VISITS_TABLE": "visits",
        "DISPLAYS_TABLE": "displays",
        "PHOTO_BUCKET": "photos",
        "RESULT_RETENTION_DAYS": "7",
        "GRAPHQL_URL": "https://example.invalid/graphql",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    return table


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"theme": "painting", "consent": true', api.NOT_JSON),
        ('["painting", true]', api.NOT_AN_OBJECT),
        ('{"theme": ["painting"], "consent": true}', "theme must be text."),
        ('{"theme": "painting", "consent": "true"}', "consent must be true or false."),
    ],
)
def test_create_visit_answers_a_bad_body_with_400_and_writes_nothing(visits_table: Any, body: str, message: str):
    event = load_event("create_visit")
    event["body"] = body
    status, answer = api_call("create_visit", event)
    assert (status, answer) == (400, {"error": "BadRequest", "message": message})
    assert visits_table.scan()["Count"] == 0


def test_create_visit_with_a_good_body_still_creates_the_visit(visits_table: Any):
    status, answer = api_call("create_visit", load_event("create_visit"))
    assert status == 201
    assert visits_table.get_item(Key={"visitId": answer["visitId"]})["Item"]["status"] == "WAITING_FOR_PHOTO"


def test_admin_refuses_a_tablet_token_on_both_routes(visits_table: Any):
    for name in ("admin_list_visits", "admin_refresh_display"):
        event = load_event(name)
        claims = event["requestContext"]["authorizer"]["claims"]
        claims.pop("cognito:groups", None)
        assert api_call("admin", event) == (403, {"error": "Forbidden", "message": Forbidden.default_message})


def test_admin_lists_visits_for_an_operator_and_checks_the_display_id(visits_table: Any):
    status, answer = api_call("create_visit", load_event("create_visit"))
    event = load_event("admin_list_visits")
    event["requestContext"]["authorizer"]["claims"]["cognito:groups"] = "operators"
    status, listed = api_call("admin", event)
    assert status == 200 and [v["visitId"] for v in listed["visits"]] == [answer["visitId"]]

    refresh = load_event("admin_refresh_display")
    refresh["requestContext"]["authorizer"]["claims"]["cognito:groups"] = "operators"
    refresh["pathParameters"] = {"displayId": "03"}
    refresh["path"] = refresh["path"].replace("/displays/3/", "/displays/03/")
    assert api_call("admin", refresh) == (400, {"error": "BadRequest", "message": api.BAD_DISPLAY_ID})
