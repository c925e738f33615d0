"""The visitor's language: POST /visits takes "ko" or "en" (Korean when none is sent) and refuses
anything else with a sentence; the visit item keeps it; every view of the visit and every display
tile carries it; GET /visits/{id} and GET /views/{token} sign the story's audio when there is one.
The real create_visit and get_visit handlers run on moto with the sample events of events/."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from gallery import api, catalog_items, display, visits
from gallery.errors import UnknownLanguage
from tests.unit._functions import api_call, load_event
from tests.unit.conftest import create_visits_table

BUCKET = "photos"
AUDIO = "catalog/painting/mona-lisa.en.mp3"
TOKEN = "Vw7-kQ2_xN9aLm4RtY8cBe3Hs6Jd1PfZ"
REFUSED = 'language must be "ko" (한국어) or "en" (English).'


def create_event(**body: Any) -> dict:
    event = load_event("create_visit")
    event["body"] = json.dumps({"theme": "painting", "consent": True, **body})
    return event


# ---------------------------------------------------------------- api.language


def test_the_sentence_is_the_one_in_errors():
    assert UnknownLanguage.default_message == REFUSED


@pytest.mark.parametrize(("body", "language"), [({}, "ko"), ({"language": "ko"}, "ko"), ({"language": "en"}, "en")])
def test_korean_unless_english_is_asked_for(body: dict, language: str):
    assert api.language(body) == language
    assert catalog_items.DEFAULT_LANGUAGE == "ko"


@pytest.mark.parametrize(
    "value", ["", "EN", "Ko", "kr", "ja", "en ", "en-US", "english", "한국어", None, 1, True, ["en"], {}]
)
def test_any_other_language_is_refused_with_a_sentence(value: object):
    with pytest.raises(UnknownLanguage) as raised:
        api.language({"language": value})
    assert raised.value.message == REFUSED


# ---------------------------------------------------------------- the handlers on moto


@pytest.fixture
def aws(aws_session, monkeypatch: pytest.MonkeyPatch):
    dynamodb = aws_session.resource("dynamodb")
    table = create_visits_table(dynamodb)
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for name, value in {
        "VISITS_TABLE": "visits",
        "PHOTO_BUCKET": BUCKET,
        "RESULT_RETENTION_DAYS": "7",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    return table, s3


@pytest.mark.parametrize(("body", "language"), [({}, "ko"), ({"language": "ko"}, "ko"), ({"language": "en"}, "en")])
def test_create_visit_stores_the_language(aws: Any, body: dict, language: str):
    table, _ = aws
    status, answer = api_call("create_visit", create_event(**body))
    assert status == 201 and answer["language"] == language
    item = table.get_item(Key={"visitId": answer["visitId"]})["Item"]
    assert item["language"] == language and item["status"] == visits.WAITING


@pytest.mark.parametrize("language", ["fr", "EN", "", 3, None, ["en"]])
def test_create_visit_refuses_another_language_and_writes_nothing(aws: Any, language: object):
    table, _ = aws
    # JSON null is not "no language": the tablet sent something, and something wrong.
    status, answer = api_call("create_visit", create_event(language=language))
    assert (status, answer) == (400, {"error": "UnknownLanguage", "message": REFUSED})
    assert table.scan()["Count"] == 0


def test_the_sample_event_asks_for_english(aws: Any):
    assert json.loads(load_event("create_visit")["body"])["language"] == "en"
    status, answer = api_call("create_visit", load_event("create_visit"))
    assert status == 201 and answer["language"] == "en"


def test_new_visit_refuses_an_unknown_language_itself(aws: Any):
    table, _ = aws
    with pytest.raises(UnknownLanguage):
        visits.new_visit(table, "3", "painting", True, 7, "fr")
    assert table.scan()["Count"] == 0


def _done(table: Any, **fields: Any) -> dict:
    """A DONE visit of display 3 (the sample events' tablet) in English, with a live view token."""
    status, created = api_call("create_visit", create_event(language="en"))
    assert status == 201
    item = {
        **table.get_item(Key={"visitId": created["visitId"]})["Item"],
        "status": visits.DONE,
        "title": "Lisa, Florence, 1503",
        "story": "In Florence you sat for a painter.",
        "portraitId": "mona-lisa",
        "resultKey": f"results/{created['visitId']}.png",
        "viewToken": TOKEN,
        "viewExpiresAt": int(time.time()) + 600,
        **fields,
    }
    table.put_item(Item=item)
    return {**item, "ownerSecret": created["ownerSecret"]}


def _reads(visit: dict) -> dict[str, tuple[int, dict]]:
    """The visit as its tablet, its owner and a phone that scanned the wall read it."""
    tablet = load_event("get_visit")
    tablet["pathParameters"] = {"visitId": visit["visitId"]}
    tablet["path"] = f"/visits/{visit['visitId']}"
    owner = copy.deepcopy(tablet)
    owner["resource"] = "/visits/{visitId}/owner"
    owner["path"] += "/owner"
    owner["requestContext"]["resourcePath"] = owner["resource"]
    owner["requestContext"].pop("authorizer", None)
    owner["headers"]["Authorization"] = f"Owner {visit['ownerSecret']}"
    viewer = copy.deepcopy(owner)
    viewer["resource"] = "/views/{viewToken}"
    viewer["path"] = f"/views/{TOKEN}"
    viewer["requestContext"]["resourcePath"] = viewer["resource"]
    viewer["pathParameters"] = {"viewToken": TOKEN}
    viewer["headers"].pop("Authorization")
    return {
        name: api_call("get_visit", event) for name, event in (("tablet", tablet), ("owner", owner), ("view", viewer))
    }


def _signed(url: str) -> tuple[str, dict]:
    """(bucket and key, query) of a presigned URL, path-style or virtual-hosted."""
    u = urlparse(url)
    host = u.netloc.split(".")[0]
    return (f"/{host}{u.path}" if host == BUCKET else u.path), parse_qs(u.query)


def test_every_reader_gets_the_language_and_a_signed_url_of_the_audio(aws: Any):
    table, s3 = aws
    visit = _done(table, audioKey=AUDIO)
    for name, (status, view) in _reads(visit).items():
        assert status == 200, (name, view)
        assert view["language"] == "en" and view["title"] == "Lisa, Florence, 1503", name
        path, query = _signed(view["audioUrl"])
        assert path == f"/{BUCKET}/{AUDIO}", name
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Expires"] == ["3600"], name
    # The phone that scanned the wall still learns no visit id.
    assert "visitId" not in _reads(visit)["view"][1]


@pytest.mark.parametrize(
    "fields",
    [
        {},  # a portrait without audio
        {"audioKey": ""},
        {"audioKey": "results/0123456789abcdef0123456789abcdef.png"},  # never anything but catalog audio
        {"audioKey": "catalog/painting/mona-lisa.png"},
        {"audioKey": AUDIO, "status": visits.PROCESSING},  # nothing is shown before DONE
    ],
)
def test_no_audio_url_without_catalog_audio_of_a_done_visit(aws: Any, fields: dict):
    table, _ = aws
    visit = _done(table, **fields)
    status, view = _reads(visit)["tablet"]
    assert status == 200 and "audioUrl" not in view
    assert visits.audio_url(aws[1], BUCKET, {**visit, **fields}) is None


# ---------------------------------------------------------------- the wall's tile


OUTCOME = {
    "status": "DONE",
    "visit": {"visitId": "0123456789abcdef0123456789abcdef", "displayId": "3", "theme": "painting"},
    "resultKey": "results/0123456789abcdef0123456789abcdef.png",
}
VIEW = {"viewToken": TOKEN, "viewExpiresAt": 1795534000}


@pytest.mark.parametrize(
    ("portrait", "visit_language", "expected"),
    [
        ({"title": "모나리자", "story": "피렌체에서", "language": "ko"}, "en", "ko"),  # what ChoosePortrait used wins
        ({"title": "Lisa", "story": "In Florence"}, "en", "en"),  # else the visit's
        ({"title": "Lisa", "story": "In Florence"}, None, None),  # a visit from before the choice
    ],
)
def test_a_done_tile_says_the_language_of_its_title_and_story(
    aws: Any, portrait: dict, visit_language: str | None, expected: str | None
):
    _, s3 = aws
    tile = display.tile(s3, BUCKET, {**OUTCOME, "portrait": portrait}, VIEW, visit_language)
    assert tile.get("language") == expected
    assert tile["title"] == portrait["title"]


def test_a_rejected_tile_has_no_language_of_its_own(aws: Any):
    # Its reason is one of errors.py's sentences, in the wall's own language.
    _, s3 = aws
    tile = display.tile(s3, BUCKET, {**OUTCOME, "status": "REJECTED", "message": "Please come closer."}, None, "ko")
    assert "language" not in tile and tile["reason"] == "Please come closer."


def test_the_wall_reads_and_is_sent_the_language(aws: Any):
    _, s3 = aws
    stored = {"displayId": "3", "status": "DONE", "title": "모나리자", "language": "ko", "visitId": "x" * 32}
    assert display.public_tile(s3, BUCKET, stored)["language"] == "ko"
    selection = display.PUBLISH_RESULT.split("publishResult(input: $input)")[1]
    assert " language " in selection
    schema = (Path(__file__).resolve().parents[2] / "appsync" / "schema.graphql").read_text()
    assert schema.count("  language: String\n") == 2  # Display and DisplayInput


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_refusal_is_told_in_the_visits_language(language: str):
    from gallery import errors, visits

    item = {"visitId": "v", "status": "REJECTED", "reason": "FaceTooSmall", "language": language}
    item["message"] = "Your face is 60 px across; please come closer."  # what RecordOutcome stored
    expected = errors.FaceTooSmall.korean_message if language == "ko" else item["message"]
    assert visits.public_view(item)["message"] == expected
    assert errors.sentence("FaceTooSmall", "ko") == errors.FaceTooSmall.korean_message
    # Every refusal a visitor can meet has both sentences.
    assert all(cls.korean_message for cls in errors.REJECTION_REASONS.values())
