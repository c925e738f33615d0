"""The local AppSync's GraphQL handling without a stack: fragments and directive arguments read
one way for HTTP and for the real-time endpoint, execute()'s steps, and subscriber failures
logged (which subscriber, what error, nothing of the visitor's result)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from pathlib import Path

import graphql
import pytest

from gallery_local import appsync_realtime
from gallery_local.appsync_local import (
    API_KEY,
    AWS_IAM,
    Identity,
    LocalAppSync,
    allowed_modes,
    directive_argument,
    fragments_of,
    root_fields,
)
from gallery_local.appsync_realtime import RealtimeServer, Subscription, _Client

ROOT = Path(__file__).resolve().parents[2]
STORY = "A weaver of silk in Lyon, 1820"  # stands for a visitor's result in the logs' checks
VISIT = "0f" * 16

PUBLISH = """
mutation Publish($input: DisplayInput!) { publishResult(input: $input) { ...Tile } }
fragment Tile on Display { displayId status story updatedAt }
"""


class _Table:
    """The DisplaysTable's calls the resolvers make, in memory."""

    def __init__(self) -> None:
        self.items: dict[str, dict] = {}

    def put_item(self, Item: dict) -> None:  # noqa: N803 - boto3's names
        self.items[Item["displayId"]] = dict(Item)

    def get_item(self, Key: dict) -> dict:  # noqa: N803
        item = self.items.get(Key["displayId"])
        return {"Item": item} if item else {}

    def scan(self) -> dict:
        return {"Items": list(self.items.values())}


@pytest.fixture
def appsync(aws_env):
    appsync = LocalAppSync(ROOT / "appsync" / "schema.graphql", "http://127.0.0.1:9", "displays")
    appsync.table = _Table()
    yield appsync
    appsync.server.httpd.server_close()


def publish(appsync: LocalAppSync, identity: Identity | None = None, display: str = "3") -> dict:
    variables = {"input": {"displayId": display, "visitId": VISIT, "status": "DONE", "story": STORY}}
    return appsync.execute(PUBLISH, variables, identity)


# ---------------------------------------------------------------- documents
def test_fragments_and_root_fields_read_spreads_and_inline_fragments():
    document = graphql.parse(
        "query Q { ...Roots ... on Query { listDisplays { displayId } } }\n"
        "fragment Roots on Query { getDisplay(displayId: 1) { displayId } }"
    )
    op = graphql.get_operation_ast(document, "Q")
    assert set(fragments_of(document)) == {"Roots"}
    assert [f.name.value for f in root_fields(document, op)] == ["getDisplay", "listDisplays"]
    assert [f.name.value for f in root_fields(document, op, fragments_of(document))] == ["getDisplay", "listDisplays"]


def test_directive_arguments_serve_auth_groups_and_subscribed_mutations(appsync):
    field = appsync.schema.subscription_type.fields["onDisplayUpdated"]
    subscribe = next(d for d in field.ast_node.directives if d.name.value == "aws_subscribe")
    assert directive_argument(subscribe, "mutations") == ["publishResult", "resetDisplay"]
    assert directive_argument(subscribe, "absent") is None
    assert allowed_modes(appsync.schema.mutation_type, "resetDisplay") == {
        "AMAZON_COGNITO_USER_POOLS": ["operators"],
        "AWS_IAM": None,
    }
    realtime = RealtimeServer(appsync)
    assert realtime._subscribe_fields == {"onDisplayUpdated": ("publishResult", "resetDisplay")}


def test_a_subscription_and_a_mutation_read_their_fragments(appsync):
    realtime = RealtimeServer(appsync)
    sub = realtime._parse(
        "s1",
        "subscription S { tile: onDisplayUpdated(displayId: 3) { ...F __typename } } fragment F on Display { status }",
        {},
        None,
    )
    assert (sub.field_name, sub.response_key, sub.arguments) == ("onDisplayUpdated", "tile", {"displayId": "3"})
    assert [f.name.value for f in sub.selection] == ["status", "__typename"]
    selected = appsync_realtime._mutation_selection(
        graphql.parse(PUBLISH), "publishResult", {"displayId": "3", "status": "DONE", "story": STORY, "updatedAt": "t"}
    )
    assert selected == {"displayId": "3", "status": "DONE", "story": STORY, "updatedAt": "t"}


# ---------------------------------------------------------------- execute()'s steps
def test_parse_and_validate_answer_without_executing(appsync):
    assert "Syntax Error" in appsync.execute("mutation {", None)["errors"][0]["message"]
    assert appsync.execute("{ nosuchField }", None)["errors"]
    two = "query A { listDisplays { displayId } } query B { listDisplays { displayId } }"
    assert appsync.execute(two, None)["errors"][0]["message"].startswith("No operation to run")
    sub = appsync.execute("subscription { onDisplayUpdated { displayId } }", None)
    assert sub["errors"][0]["errorType"] == "UnsupportedOperation"
    assert appsync.table.items == {} and appsync.mutations == []


def test_authorise_refuses_per_field_and_runs_nothing(appsync):
    out = publish(appsync, Identity(API_KEY))
    assert out["data"] == {"publishResult": None}
    assert out["errors"][0]["errorType"] == "Unauthorized"
    assert out["errors"][0]["message"] == "Not Authorized to access publishResult on type Mutation"
    assert appsync.table.items == {} and appsync.mutations == []


def test_execute_and_fan_out_a_mutation(appsync):
    received = []
    appsync.subscribe(lambda field, value, document: received.append((field, value)))
    out = publish(appsync, Identity(AWS_IAM))
    assert "errors" not in out
    assert out["data"]["publishResult"]["story"] == STORY
    assert appsync.published_for(VISIT) == [out["data"]["publishResult"]]
    assert received == [("publishResult", out["data"]["publishResult"])]
    query = appsync.execute("{ getDisplay(displayId: 3) { status } }", None, Identity(API_KEY))
    assert query == {"data": {"getDisplay": {"status": "DONE"}}}


def test_a_failing_subscriber_is_logged_and_the_others_still_get_the_result(appsync, caplog):
    received = []

    def broken(field: str, value: dict, document: graphql.DocumentNode) -> None:
        raise RuntimeError("socket gone")

    broken_id = appsync.subscribe(broken)
    appsync.subscribe(lambda field, value, document: received.append(value))
    with caplog.at_level(logging.WARNING, logger="gallery_local.appsync_local"):
        out = publish(appsync, Identity(AWS_IAM))
    assert "errors" not in out and len(received) == 1
    (record,) = [r for r in caplog.records if r.name == "gallery_local.appsync_local"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert broken_id in message and "RuntimeError: socket gone" in message and "publishResult" in message
    assert STORY not in message and VISIT not in message
    appsync.unsubscribe(broken)
    caplog.clear()
    publish(appsync, Identity(AWS_IAM))
    assert len(received) == 2 and not caplog.records


# ---------------------------------------------------------------- the real-time fan-out
class _Ws:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    async def send(self, text: str) -> None:
        self.sent.append(json.loads(text))


def test_a_failing_subscription_is_logged_by_its_id_and_the_others_get_data(appsync, caplog):
    realtime = RealtimeServer(appsync)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    realtime._loop = loop
    try:
        good = realtime._parse("good-1", "subscription { onDisplayUpdated { displayId story } }", {}, None)
        broken = Subscription("broken-1", "onDisplayUpdated", "onDisplayUpdated", {}, None, good.mutations)
        client = _Client(_Ws(), subscriptions={"broken-1": broken, "good-1": good})
        realtime._clients.add(client)
        appsync.subscribe(realtime._on_mutation)
        with caplog.at_level(logging.WARNING, logger="gallery_local.appsync_realtime"):
            publish(appsync, Identity(AWS_IAM))
        deadline = time.time() + 5
        while not client.ws.sent and time.time() < deadline:
            time.sleep(0.01)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
    assert client.ws.sent == [
        {"type": "data", "id": "good-1", "payload": {"data": {"onDisplayUpdated": {"displayId": "3", "story": STORY}}}}
    ]
    (record,) = [r for r in caplog.records if r.name == "gallery_local.appsync_realtime"]
    message = record.getMessage()
    assert "broken-1" in message and "TypeError" in message
    assert STORY not in message and VISIT not in message
