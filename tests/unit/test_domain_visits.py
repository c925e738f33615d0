"""gallery.visits: the visit item and its state transitions, on moto's DynamoDB."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import get_args

import boto3
import pytest
from moto import mock_aws

from gallery import catalog_items, contracts, visits
from gallery.errors import AlreadyClaimed, BadRequest, ConsentMissing, VisitNotFound
from tests.unit.conftest import create_visits_table

REGION = "us-east-1"
TABLE = "past-life-gallery-dev-VisitsTable-1A2B3C4D5E6F"
ISO_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
EXEC = "arn:aws:states:us-east-1:123456789012:execution:PipelineStateMachine-Xq3nT8bW2kLp:run"


_RESOURCES: dict[int, object] = {}


def resource(n: int = 0):
    """DynamoDB resources made once per module (each mock_aws() would otherwise make boto3
    load its service models again); resources are not thread-safe, so one per thread."""
    if n not in _RESOURCES:
        _RESOURCES[n] = boto3.session.Session(region_name=REGION).resource("dynamodb")
    return _RESOURCES[n]


@pytest.fixture
def table(aws_env):
    with mock_aws():
        yield create_visits_table(resource(), TABLE)


def stored(table, visit_id: str) -> dict | None:
    return table.get_item(Key={"visitId": visit_id}, ConsistentRead=True).get("Item")


def test_new_visit_writes_consent_and_ttl(table):
    before = int(time.time())
    visit = visits.new_visit(table, 3, "painting", True, 7)
    after = int(time.time())
    assert re.fullmatch(r"[0-9a-f]{32}", visit["visitId"])
    # The owner secret goes back to the tablet once; the item keeps only its SHA-256.
    secret = visit.pop("ownerSecret")
    assert visits.is_token(secret)
    item = stored(table, visit["visitId"])
    assert item == {**visit, "expiresAt": Decimal(visit["expiresAt"])}
    assert item["ownerHash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert "ownerSecret" not in item and secret not in repr(item)
    wrong = secret[:-1] + ("B" if secret.endswith("A") else "A")
    assert visits.is_owner(item, secret) and not visits.is_owner(item, wrong)
    assert not visits.is_owner(item, None) and not visits.is_owner(item, item["ownerHash"])
    assert item["displayId"] == "3" and item["theme"] == "painting" and item["status"] == "WAITING_FOR_PHOTO"
    assert item["consent"] is True and item["consentAt"] == item["createdAt"]
    assert re.fullmatch(ISO_MS, item["consentAt"])
    assert before + 7 * 86400 <= item["expiresAt"] <= after + 7 * 86400


def test_new_visits_get_distinct_ids(table):
    ids = {visits.new_visit(table, "1", "travel", True, 1)["visitId"] for _ in range(20)}
    assert len(ids) == 20
    assert table.scan()["Count"] == 20


@pytest.mark.parametrize("consent", [False, None, "true", 1, "yes"])
def test_nothing_is_written_without_consent(table, consent):
    with pytest.raises(ConsentMissing):
        visits.new_visit(table, "3", "painting", consent, 7)
    assert table.scan()["Count"] == 0


@pytest.mark.parametrize(
    "display,theme",
    [("3", "cubism"), ("3", ""), ("3", "Painting"), ("", "painting"), ("abc", "painting"), ("-1", "painting")],
)
def test_bad_requests_write_nothing(table, display, theme):
    with pytest.raises(BadRequest):
        visits.new_visit(table, display, theme, True, 7)
    assert table.scan()["Count"] == 0


def test_claim_moves_a_waiting_visit_to_processing_once(table):
    visit = visits.new_visit(table, "3", "animation", True, 7)
    claimed = visits.claim(table, visit["visitId"], "3", EXEC)
    assert claimed["status"] == "PROCESSING" and claimed["executionArn"] == EXEC
    assert re.fullmatch(ISO_MS, claimed["claimedAt"])
    assert stored(table, visit["visitId"])["status"] == "PROCESSING"
    with pytest.raises(AlreadyClaimed) as e:
        visits.claim(table, visit["visitId"], "3", EXEC + "-again")
    assert "PROCESSING" in e.value.message
    assert stored(table, visit["visitId"])["executionArn"] == EXEC


@pytest.fixture
def atomic_updates(monkeypatch: pytest.MonkeyPatch):
    """DynamoDB evaluates a condition and applies the update as one atomic step; moto's
    in-process backend checks and writes without a lock, so two threads can both pass the
    condition inside moto. Serialise the backend's UpdateItem as the service does; the
    threads still race everywhere else (clients, requests, the claim code)."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    original = DynamoDBBackend.update_item

    def update_item(self, *args, **kwargs):
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "update_item", update_item)


def test_claim_is_once_only_under_concurrent_deliveries(table, atomic_updates):
    resource(1), resource(2)
    for _ in range(10):
        visit_id = visits.new_visit(table, "3", "painting", True, 7)["visitId"]
        barrier = threading.Barrier(2)
        results: list[str] = []

        def deliver(
            n: int, visit_id: str = visit_id, barrier: threading.Barrier = barrier, results: list[str] = results
        ) -> None:
            own = resource(n + 1).Table(TABLE)
            barrier.wait()
            try:
                visits.claim(own, visit_id, "3", f"{EXEC}-{n}")
                results.append(f"claimed-{n}")
            except AlreadyClaimed:
                results.append("already")

        threads = [threading.Thread(target=deliver, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert sorted(results)[0] == "already" and sorted(results)[1].startswith("claimed-"), results
        winner = sorted(results)[1].split("-")[1]
        assert stored(table, visit_id)["executionArn"] == f"{EXEC}-{winner}"


def test_claim_of_an_unknown_visit(table):
    with pytest.raises(VisitNotFound):
        visits.claim(table, "f" * 32, "3", EXEC)
    assert table.scan()["Count"] == 0


def test_claim_without_stored_consent(table):
    table.put_item(
        Item={
            "visitId": "a" * 32,
            "displayId": "3",
            "theme": "painting",
            "status": "WAITING_FOR_PHOTO",
            "consent": False,
        }
    )
    with pytest.raises(ConsentMissing):
        visits.claim(table, "a" * 32, "3", EXEC)
    assert stored(table, "a" * 32)["status"] == "WAITING_FOR_PHOTO"


@pytest.mark.parametrize("start", ["WAITING_FOR_PHOTO", "PROCESSING"])
def test_finish_records_a_final_state(table, start):
    table.put_item(Item={"visitId": "b" * 32, "displayId": "3", "theme": "painting", "status": start})
    result = visits.finish(table, "b" * 32, "FAILED", {"reason": "InferenceFailed", "cause": "boom", "error": "X"})
    assert result["status"] == "FAILED"
    item = stored(table, "b" * 32)
    assert item["status"] == "FAILED" and item["reason"] == "InferenceFailed" and item["cause"] == "boom"
    assert re.fullmatch(ISO_MS, item["finishedAt"])


@pytest.mark.parametrize("final", ["DONE", "REJECTED", "FAILED"])
def test_finish_never_overwrites_a_final_state(table, final):
    original = {
        "visitId": "c" * 32,
        "displayId": "3",
        "theme": "painting",
        "status": final,
        "resultKey": "results/" + "c" * 32 + ".png",
    }
    table.put_item(Item=original)
    assert visits.finish(table, "c" * 32, "FAILED", {"reason": "States.Timeout"}) is None
    assert stored(table, "c" * 32) == original


def test_finish_of_a_deleted_visit_does_not_recreate_it(table):
    assert visits.finish(table, "d" * 32, "REJECTED", {"reason": "FaceTooSmall"}) is None
    assert stored(table, "d" * 32) is None


def test_public_view_hides_the_cause_and_internals(table):
    table.put_item(
        Item={
            "visitId": "e" * 32,
            "displayId": "3",
            "theme": "painting",
            "status": "FAILED",
            "consent": True,
            "consentAt": "2026-11-24T14:26:41.120Z",
            "createdAt": "2026-11-24T14:26:41.120Z",
            "finishedAt": "2026-11-24T14:27:41.120Z",
            "expiresAt": 1795000000,
            "executionArn": EXEC,
            "reason": "InferenceFailed",
            "message": "The face engine could not finish this photo.",
            "error": "InferenceFailed",
            "cause": 'Traceback (most recent call last): File "/opt/python/gallery"',
            "timings": {"cropMs": Decimal(912)},
        }
    )
    view = visits.public_view(stored(table, "e" * 32))
    for hidden in ("cause", "executionArn", "consent"):
        assert hidden not in view
    assert view["status"] == "FAILED" and view["error"] == "InferenceFailed" and view["reason"] == "InferenceFailed"
    assert view["message"] == "The face engine could not finish this photo."
    assert view["visitId"] == "e" * 32 and view["displayId"] == "3" and view["theme"] == "painting"
    assert not any(isinstance(v, Decimal) for v in _leaves(view))


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    else:
        yield value


def test_plain_turns_dynamodb_numbers_into_json_numbers():
    value = visits.plain({"a": Decimal("3"), "b": [Decimal("2.5"), "x"], "c": {"d": Decimal("-0")}})
    assert value == {"a": 3, "b": [2.5, "x"], "c": {"d": 0}}
    assert type(value["a"]) is int and type(value["b"][0]) is float


# ---------------------------------------------------------------- the state machines' status literals

ROOT = Path(__file__).resolve().parents[2]
# The ASL is JSON and cannot import the constants: every status it writes, passes on or tests is
# one of its module's, and a placeholder named after a status (":waiting") holds that status.
ASL_STATUSES = {
    "pipeline.asl.json": (visits.WAITING, visits.PROCESSING, *visits.FINAL),
    "catalog.asl.json": catalog_items.STATUSES,
}


def _status_literals(node, statuses: tuple[str, ...], path: str = ""):
    """(where, literal, the status it must be or None for any of `statuses`) in an ASL document."""
    if isinstance(node, list):
        for i, v in enumerate(node):
            yield from _status_literals(v, statuses, f"{path}[{i}]")
        return
    if not isinstance(node, dict):
        return
    for k, v in node.items():
        if k == "ExpressionAttributeValues":
            for name, value in v.items():
                named = [s for s in statuses if s.split("_")[0] == name.lstrip(":").upper()]
                if named:
                    yield f"{path}/{k}/{name}", value["S"], named[0]
        elif k == "status" and isinstance(v, str):
            yield f"{path}/status", v, None
        elif k == "StringEquals" and str(node.get("Variable", "")).endswith(".status"):
            yield f"{path}/StringEquals", v, None
        yield from _status_literals(v, statuses, f"{path}/{k}")


@pytest.mark.parametrize("asl", sorted(ASL_STATUSES))
def test_the_state_machines_status_literals_are_the_constants(asl: str):
    statuses = ASL_STATUSES[asl]
    text = re.sub(r"\$\{\w+\}", "x", (ROOT / "statemachine" / asl).read_text())
    found = list(_status_literals(json.loads(text), statuses))
    for where, literal, expected in found:
        assert literal == expected if expected else literal in statuses, f"{asl}{where}: {literal!r}"
    # Not an empty pass: the walk saw every status the pipeline uses, and the catalog's two.
    seen = {literal for _, literal, _ in found}
    assert seen == (set(statuses) if asl == "pipeline.asl.json" else {catalog_items.FAILED, catalog_items.GENERATED})


def test_the_contracts_status_types_are_the_constants():
    # gallery.contracts spells the statuses as Literal types, which cannot name the constants.
    assert get_args(contracts.Status) == (
        visits.WAITING,
        visits.PROCESSING,
        visits.DONE,
        visits.REJECTED,
        visits.FAILED,
        visits.DELETING,
    )
    assert set(get_args(contracts.Ended)) == set(visits.FINAL) - {visits.DONE}
