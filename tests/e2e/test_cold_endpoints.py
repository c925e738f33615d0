"""Cold endpoints and a dying engine, end to end on the local stack.

An endpoint scaled to zero queues requests and gets an instance only minutes later on AWS;
locally `AsyncEndpoints.cold_seconds` plays those minutes. The session's callback tasks time
out after INFERENCE_TIMEOUT_SECONDS, so a cold start a little longer than one timeout is what
the Retry on States.Timeout is for: the retried task sends a second request, the first one's
late answer is refused by Step Functions (the callback ends it "too-late" and cleans up), and
the visit ends DONE. A cold start longer than both attempts ends FAILED with States.Timeout."""

from __future__ import annotations

import json
import time

import pytest
import requests

from gallery_local.demo import DEMO
from gallery_local.sagemaker_local import KILL
from gallery_local.tablet import Tablet
from tests.stack_fixture import INFERENCE_TIMEOUT_SECONDS

VISITOR = (DEMO / "photos" / "visitor-a.jpg").read_bytes()
FINAL = ("DONE", "REJECTED", "FAILED")
# Longer than one callback timeout, shorter than the task's two attempts.
COLD_SECONDS = INFERENCE_TIMEOUT_SECONDS + 4


def item(stack, visit_id: str) -> dict:
    return stack.table("VisitsTable").get_item(Key={"visitId": visit_id}, ConsistentRead=True).get("Item") or {}


def objects(stack, prefix: str) -> list[str]:
    resp = stack.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix=prefix)
    return [o["Key"] for o in resp.get("Contents", [])]


def instances(stack, endpoint: str) -> int:
    (variant,) = stack.client("sagemaker").describe_endpoint(EndpointName=endpoint)["ProductionVariants"]
    return variant["CurrentInstanceCount"]


@pytest.fixture
def cold(stack):
    """Both endpoints scaled to zero, as after a quiet spell; warm again afterwards."""
    endpoints = stack.endpoints
    endpoints.cold_seconds = COLD_SECONDS
    for name in (stack.swap_endpoint, stack.restore_endpoint):
        endpoints.scale_in(name)
    yield endpoints
    endpoints.cold_seconds = 0
    for name in (stack.swap_endpoint, stack.restore_endpoint):
        endpoints.scale_out(name)
    deadline = time.time() + 30
    while (
        time.time() < deadline
        and min(endpoints.instances(stack.swap_endpoint), endpoints.instances(stack.restore_endpoint)) == 0
    ):
        time.sleep(0.1)


def follow(tablet: Tablet, visit_id: str, timeout: float) -> tuple[dict, bool]:
    """Poll as the tablet does; (final view, whether it ever said warming up)."""
    warming, deadline = False, time.time() + timeout
    while time.time() < deadline:
        code, view = tablet.status(visit_id)
        assert code == 200, view
        warming = warming or bool(view.get("warmingUp"))
        if view["status"] in FINAL:
            assert view["warmingUp"] is False
            return view, warming
        time.sleep(0.25)
    raise AssertionError(f"visit {visit_id} did not end: {view}")


def visit(stack, display: int, timeout: float = 150) -> tuple[dict, bool]:
    tablet = Tablet(stack, display)
    code, created = tablet.start_visit("painting")
    assert code == 201, created
    assert tablet.upload(created, VISITOR).status_code < 300
    return follow(tablet, created["visitId"], timeout)


def test_a_visit_longer_cold_than_one_callback_timeout_waits_says_so_and_ends_done(stack, cold):
    assert instances(stack, stack.swap_endpoint) == 0 and instances(stack, stack.restore_endpoint) == 0
    view, warming = visit(stack, 5, timeout=4 * COLD_SECONDS + 60)
    assert view["status"] == "DONE", view
    assert warming, "the tablet was never told the painter was warming up"
    assert instances(stack, stack.swap_endpoint) == 1 and instances(stack, stack.restore_endpoint) == 1
    visit_id = view["visitId"]
    # The Retry sent each endpoint a second request; the first ones answered too late and were
    # cleaned up: nothing is left waiting or lying around, and the visit has one result.
    sent = [i for i in stack.endpoints.invocations if i["inferenceId"].startswith(visit_id)]
    assert len([i for i in sent if i["endpoint"] == stack.swap_endpoint]) == 2, sent
    time.sleep(2)  # the late answers' callbacks
    tokens = [t for t in stack.table("TokensTable").scan()["Items"] if t["visitId"] == visit_id]
    assert tokens == []
    # Every request and output of both attempts is gone (the swapped image, inference/swaps/,
    # is the pipeline's own intermediate, kept by every visit until the lifecycle rule).
    for prefix in ("inference/in/", "inference/out/", "inference/errors/"):
        assert [k for k in objects(stack, prefix) if visit_id in k] == []
    assert objects(stack, f"results/{visit_id}")
    # Warm now: the next visitor is not kept waiting.
    started = time.time()
    view, warming = visit(stack, 5)
    assert view["status"] == "DONE" and not warming
    assert time.time() - started < COLD_SECONDS


def test_the_wall_tile_says_warming_up_once_until_the_portrait_replaces_it(stack, cold):
    # Cold for less than one callback timeout: both endpoints make the visit wait, no retry.
    cold.cold_seconds = 4
    display = "7"
    before = len(stack.appsync.published(display))
    tablet = Tablet(stack, display)
    code, created = tablet.start_visit("travel", language="en")
    assert code == 201, created
    visit_id = created["visitId"]
    assert tablet.upload(created, VISITOR).status_code < 300
    public: dict = {}
    stored: dict = {}
    deadline = time.time() + 4 * INFERENCE_TIMEOUT_SECONDS + 60
    while time.time() < deadline:
        code, view = tablet.status(visit_id)
        assert code == 200, view
        if not public:
            # What anyone may read while the tile says it: never the visit id. The stored state
            # keeps it (a visitor's delete clears the tile by it).
            listed = requests.get(f"{stack.api.url}/displays", timeout=10).json()["displays"]
            tile = next((d for d in listed if d["displayId"] == display), {})
            if tile.get("status") == "WARMING_UP":
                public = tile
                stored = stack.table("DisplaysTable").get_item(Key={"displayId": display}, ConsistentRead=True)["Item"]
        if view["status"] in FINAL:
            break
        time.sleep(0.25)
    assert view["status"] == "DONE", view
    # The tablet sees DONE when the visit item says so; the wall is told a step later.
    arn = stack.table("VisitsTable").get_item(Key={"visitId": visit_id})["Item"]["executionArn"]
    assert stack.wait_execution(arn)["status"] == "SUCCEEDED"
    tiles = stack.appsync.published(display)[before:]
    # Once, though both endpoints were cold, and before the portrait.
    assert [t["status"] for t in tiles] == ["WARMING_UP", "DONE"], tiles
    warming = tiles[0]
    assert warming["theme"] == "travel" and warming["language"] == "en"
    assert "imageUrl" not in warming or warming["imageUrl"] is None
    assert "visitId" not in warming and visit_id not in json.dumps(warming)
    assert [t["status"] for t in stack.appsync.published_for(visit_id)] == ["WARMING_UP", "DONE"]
    assert public.get("status") == "WARMING_UP", "GET /displays never showed the tile warming up"
    assert public["language"] == "en" and "visitId" not in public and visit_id not in json.dumps(public)
    assert stored["visitId"] == visit_id and stored["status"] == "WARMING_UP"


def test_the_engine_killed_mid_inference_ends_the_visit_done_and_the_next_is_unaffected(stack):
    stack.endpoints.inject(stack.swap_endpoint, KILL)
    view, _ = visit(stack, 6, timeout=4 * INFERENCE_TIMEOUT_SECONDS + 90)
    visit_id = view["visitId"]
    (killed,) = [i for i in stack.endpoints.invocations if i["inferenceId"].startswith(visit_id) and i["fault"]]
    # The request in flight died with the process and was reported on the error topic; the
    # state machine's Retry on InferenceFailed asked again once the replacement answered.
    assert killed.get("lost"), killed
    assert view["status"] == "DONE", view
    nxt, _ = visit(stack, 6)
    assert nxt["status"] == "DONE", nxt
