"""gallery.display: the tile a display shows, the displays list, and the signed mutation."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlparse

import pytest
from botocore.credentials import Credentials

from gallery import display
from tests.unit._http import recorder
from tests.unit.conftest import create_table

REGION = "us-east-1"
BUCKET = "past-life-gallery-dev-photobucket"
VISIT = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def aws(aws_session):
    session = aws_session
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    displays = create_table(session.resource("dynamodb"), "DisplaysTable", "displays")
    yield s3, displays


def _signed_key(url: str) -> tuple[str, int]:
    """(path, seconds the URL stays valid) of a presigned GET, SigV4 or SigV2."""
    u = urlparse(url)
    query = parse_qs(u.query)
    if "X-Amz-Signature" in query:
        return u.path, int(query["X-Amz-Expires"][0])
    assert "Signature" in query, url
    return u.path, int(query["Expires"][0]) - int(time.time())


TOKEN = "Vw7-kQ2_xN9aLm4RtY8cBe3Hs6Jd1PfZ"  # a view token: 32 URL-safe characters
VIEW = {"viewToken": TOKEN, "viewExpiresAt": 1795534000}
LISA = {"portraitId": "mona-lisa", "title": "Lisa, Florence, 1503", "story": "In Florence..."}


def done(portrait: dict | None, **visit) -> dict:
    """A DONE outcome as PublishDisplay receives it (events/publish_display_done.json)."""
    return {
        "status": "DONE",
        "visit": {"visitId": VISIT, "displayId": "3", **visit},
        "resultKey": f"results/{VISIT}.png",
        "portrait": portrait,
    }


def test_a_done_tile_shows_the_signed_result_and_the_story(aws):
    s3, _ = aws
    tile = display.tile(s3, BUCKET, done(LISA, displayId=3, theme="painting", bucket=BUCKET), VIEW)
    url = tile.pop("imageUrl")
    # visitId is kept in the display's stored state (a delete clears the tile by it) ...
    assert tile == {
        "displayId": "3",
        "visitId": VISIT,
        "status": "DONE",
        "theme": "painting",
        "story": "In Florence...",
        "title": "Lisa, Florence, 1503",
        "viewToken": TOKEN,
        "viewExpiresAt": 1795534000,
    }
    # ... but the image is the wall's copy, named by the view token, and signed for an hour.
    path, valid = _signed_key(url)
    assert path.endswith(f"/wall/{TOKEN}.png") and BUCKET in url
    assert VISIT not in url and "results/" not in url
    assert display.IMAGE_URL_SECONDS - 5 <= valid <= display.IMAGE_URL_SECONDS == 3600
    # What the mutation returns is what subscribed walls receive: never the visit id.
    selection = display.PUBLISH_RESULT.split("publishResult(input: $input)")[1]
    assert "viewToken" in selection and "visitId" not in selection


def test_a_done_tile_without_story_leaves_it_out(aws):
    s3, _ = aws
    tile = display.tile(s3, BUCKET, done(None), VIEW)
    assert set(tile) == {"displayId", "visitId", "status", "imageUrl", "viewToken", "viewExpiresAt"}
    assert _signed_key(tile["imageUrl"])[0].endswith(f"/wall/{TOKEN}.png")


@pytest.mark.parametrize(
    "outcome,reason",
    [
        ({"status": "REJECTED", "reason": "FaceTooSmall", "message": "Please come closer."}, "Please come closer."),
        ({"status": "FAILED", "reason": "States.Timeout"}, "States.Timeout"),
    ],
)
def test_an_unsuccessful_tile_shows_the_reason_and_no_image(aws, outcome, reason):
    s3, _ = aws
    tile = display.tile(s3, BUCKET, {**outcome, "visit": {"visitId": VISIT, "displayId": "3", "theme": "travel"}})
    assert tile == {
        "displayId": "3",
        "visitId": VISIT,
        "status": outcome["status"],
        "theme": "travel",
        "reason": reason,
    }


def test_a_warming_up_tile_has_the_visits_theme_and_language_and_no_image(aws):
    s3, displays = aws
    visit = {"visitId": VISIT, "displayId": "3", "theme": "animation", "language": "ko", "status": "PROCESSING"}
    tile = display.tile(s3, BUCKET, {"status": display.WARMING_UP, "visit": visit})
    assert tile == {"displayId": "3", "visitId": VISIT, "status": "WARMING_UP", "theme": "animation", "language": "ko"}
    # Stored as publishResult stores it (visitId too, so a delete clears it); read back publicly
    # without the visit id, and with no image: the wall keeps its default art.
    displays.put_item(Item={**tile, "updatedAt": "2026-11-24T14:27:03.120Z"})
    (shown,) = display.current(s3, displays, BUCKET)
    assert shown == {
        "displayId": "3",
        "status": "WARMING_UP",
        "theme": "animation",
        "language": "ko",
        "updatedAt": "2026-11-24T14:27:03.120Z",
    }
    assert VISIT not in json.dumps(shown)


def test_current_lists_displays_in_number_order_with_fresh_urls(aws):
    s3, displays = aws
    live, stale = "L" * 32, "S" * 32
    displays.put_item(Item={"displayId": "10", "status": "DEFAULT"})
    displays.put_item(
        Item={
            "displayId": "2",
            "status": "DONE",
            "visitId": VISIT,
            "imageUrl": "https://expired.example/old",
            "viewToken": live,
            "viewExpiresAt": int(time.time()) + 600,
            "story": "In Florence...",
        }
    )
    # Still on the wall, but its QR link has expired.
    displays.put_item(
        Item={
            "displayId": "4",
            "status": "DONE",
            "visitId": "b" * 32,
            "viewToken": stale,
            "viewExpiresAt": int(time.time()) - 1,
        }
    )
    displays.put_item(Item={"displayId": "1", "status": "REJECTED", "visitId": "a" * 32, "reason": "Please..."})
    got = display.current(s3, displays, BUCKET)
    assert [d["displayId"] for d in got] == ["1", "2", "4", "10"]
    assert "imageUrl" not in got[0] and "imageUrl" not in got[3]
    assert got[0]["reason"] == "Please..." and got[1]["story"] == "In Florence..."
    # Signed now, for the wall's copy: never the stored URL, never a results/ key.
    path, valid = _signed_key(got[1]["imageUrl"])
    assert path.endswith(f"/wall/{live}.png") and valid > 0
    assert got[1]["viewToken"] == live and got[1]["viewExpiresAt"] > time.time()
    # An expired token still names the wall's image, but is no longer handed out as a link.
    assert _signed_key(got[2]["imageUrl"])[0].endswith(f"/wall/{stale}.png")
    assert "viewToken" not in got[2] and "viewExpiresAt" not in got[2]
    # The list is public: no tile has a visitId, and no visit id appears anywhere in it.
    assert not any("visitId" in d for d in got)
    listed = json.dumps(got)
    assert not any(v in listed for v in (VISIT, "a" * 32, "b" * 32)) and "results/" not in listed


@pytest.fixture
def appsync():
    with recorder(answer={}) as (handler, base):
        yield handler, f"{base}/graphql"


CREDENTIALS = Credentials("AKIAEXAMPLE", "secret", "session-token")
TILE = {"displayId": "3", "visitId": VISIT, "status": "REJECTED", "reason": "Please come closer."}


def test_publish_sends_a_sigv4_signed_mutation(appsync):
    handler, url = appsync
    handler.answer = {"data": {"publishResult": {**TILE, "updatedAt": "2026-11-24T14:27:12.001Z"}}}
    assert display.publish(CREDENTIALS, REGION, url, TILE) == {**TILE, "updatedAt": "2026-11-24T14:27:12.001Z"}
    (request,) = handler.received
    assert request["body"]["variables"] == {"input": TILE}
    assert "publishResult(input: $input)" in request["body"]["query"]
    auth = request["headers"]["Authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/") and f"/{REGION}/appsync/aws4_request" in auth
    assert request["headers"]["X-Amz-Security-Token"] == "session-token"


@pytest.mark.parametrize(
    "answer,match",
    [
        ((401, {"errors": [{"errorType": "UnauthorizedException"}]}), "answered 401"),
        ((200, {"data": None, "errors": [{"message": "Not Authorized to access publishResult"}]}), "refused"),
    ],
)
def test_a_refused_mutation_raises_publish_failed(appsync, answer, match):
    handler, url = appsync
    handler.status, handler.answer = answer
    with pytest.raises(display.PublishFailed, match=match):
        display.publish(CREDENTIALS, REGION, url, TILE)


def test_an_unreachable_appsync_raises_publish_failed():
    with pytest.raises(display.PublishFailed, match="did not answer"):
        display.signed_graphql(CREDENTIALS, REGION, "http://127.0.0.1:9/graphql", "query { x }", {}, timeout=1)
