"""The local AppSync real-time endpoint speaks the protocol AWS documents, closely enough that the
display client written for AWS works unchanged: auth in the `header-` subprotocol or the query
string, connection_init/ack/ka, start/start_ack/data/error, stop/complete, argument filtering,
the mutation's selection set, AppSync's auth modes, and malformed frames that hurt nobody."""

from __future__ import annotations

import base64
import json

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from websockets.sync.client import connect

from gallery_local.appsync_realtime import encode_header
from gallery_local.serve import OPERATOR_PASSWORD, OPERATOR_USER

pytestmark = pytest.mark.timeout(60)

FIELDS = "displayId viewToken status imageUrl story title theme reason updatedAt"
SUBSCRIPTION = "subscription S($d: ID) { onDisplayUpdated(displayId: $d) { displayId status viewToken title } }"
RESET = "mutation R($d: ID!) { resetDisplay(displayId: $d) { displayId status updatedAt } }"


@pytest.fixture(scope="module")
def cfg(served):
    return served.config()


@pytest.fixture(scope="module")
def operator(cfg):
    resp = requests.post(
        cfg["cognito"]["endpoint"],
        headers={
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
            "Content-Type": "application/x-amz-json-1.1",
        },
        data=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": cfg["cognito"]["clientId"],
                "AuthParameters": {"USERNAME": OPERATOR_USER, "PASSWORD": OPERATOR_PASSWORD},
            }
        ),
        timeout=10,
    )
    resp.raise_for_status()
    return resp.json()["AuthenticationResult"]


def host(cfg) -> str:
    return cfg["graphqlUrl"].split("/")[2]


def api_key_header(cfg) -> dict:
    return {"host": host(cfg), "x-api-key": cfg["apiKey"]}


def open_socket(cfg, header: dict | None = None, query_form: bool = False, subprotocols=None):
    header = header if header is not None else api_key_header(cfg)
    if query_form:
        encoded = base64.b64encode(json.dumps(header).encode()).decode()
        return connect(
            f"{cfg['realtimeUrl']}?header={encoded}&payload=e30=", subprotocols=subprotocols or ["graphql-ws"]
        )
    return connect(cfg["realtimeUrl"], subprotocols=subprotocols or ["graphql-ws", "header-" + encode_header(header)])


def recv(ws, skip_ka: bool = True) -> dict:
    while True:
        msg = json.loads(ws.recv(timeout=5))
        if not (skip_ka and msg["type"] == "ka"):
            return msg


def init(ws) -> dict:
    ws.send(json.dumps({"type": "connection_init"}))
    ack = recv(ws)
    assert ack == {"type": "connection_ack", "payload": {"connectionTimeoutMs": 300000}}
    assert recv(ws, skip_ka=False) == {"type": "ka"}
    return ack


def start(ws, sub_id: str, auth: dict, variables: dict | None = None, query: str = SUBSCRIPTION) -> dict:
    data = json.dumps({"query": query, "variables": variables or {}})
    ws.send(
        json.dumps({"id": sub_id, "type": "start", "payload": {"data": data, "extensions": {"authorization": auth}}})
    )
    return recv(ws)


def mutate(cfg, query: str, variables: dict, headers: dict) -> dict:
    return requests.post(cfg["graphqlUrl"], json={"query": query, "variables": variables}, headers=headers, timeout=10)


def test_subscription_over_the_header_subprotocol_filters_by_argument_and_selection(cfg, operator):
    with open_socket(cfg) as ws:
        assert ws.subprotocol == "graphql-ws"
        init(ws)
        assert start(ws, "three", api_key_header(cfg), {"d": "3"}) == {"type": "start_ack", "id": "three"}
        assert start(ws, "all", api_key_header(cfg)) == {"type": "start_ack", "id": "all"}
        resp = mutate(cfg, RESET, {"d": "4"}, {"Authorization": operator["IdToken"]})
        assert resp.json()["data"]["resetDisplay"]["displayId"] == "4"
        # Only the subscription without an argument gets display 4; fields the mutation did not
        # select (viewToken, title) come as null, fields it selected and the subscriber did not
        # ask for (updatedAt) do not come at all.
        msg = recv(ws)
        assert msg == {
            "type": "data",
            "id": "all",
            "payload": {
                "data": {"onDisplayUpdated": {"displayId": "4", "status": "DEFAULT", "viewToken": None, "title": None}}
            },
        }
        mutate(cfg, RESET, {"d": "3"}, {"Authorization": operator["IdToken"]})
        got = {recv(ws)["id"], recv(ws)["id"]}
        assert got == {"three", "all"}
        ws.send(json.dumps({"type": "stop", "id": "three"}))
        assert recv(ws) == {"type": "complete", "id": "three"}
        mutate(cfg, RESET, {"d": "3"}, {"Authorization": operator["IdToken"]})
        assert recv(ws)["id"] == "all"  # "three" is stopped


def test_query_string_header_and_cognito_user_pool_auth(cfg, operator):
    auth = {"host": host(cfg), "Authorization": operator["AccessToken"]}
    with open_socket(cfg, auth, query_form=True) as ws:
        init(ws)
        assert start(ws, "s", auth, {"d": "2"})["type"] == "start_ack"


def test_bad_credentials_are_a_connection_error(cfg):
    with open_socket(cfg, {"host": host(cfg), "x-api-key": "da2-wrong"}) as ws:
        msg = recv(ws)
        assert msg["type"] == "connection_error"
        assert msg["payload"]["errors"][0]["errorType"] == "UnauthorizedException"
    with connect(cfg["realtimeUrl"], subprotocols=["graphql-ws"]) as ws:  # no header at all
        assert recv(ws)["type"] == "connection_error"


def test_a_client_without_the_graphql_ws_subprotocol_is_told_so(cfg):
    with open_socket(cfg, subprotocols=["header-" + encode_header(api_key_header(cfg))]) as ws:
        msg = recv(ws)
        assert msg == {"type": "connection_error", "payload": {"errors": [
            {"message": "SubProtocolNotSupportedError", "errorCode": 400}]}}  # fmt: skip


def test_field_auth_modes_apply_to_subscriptions_and_mutations(cfg, stack, operator):
    with open_socket(cfg) as ws:
        init(ws)
        # The subscription allows the API key and Cognito, not IAM (no @aws_iam on it).
        req = AWSRequest(method="POST", url=cfg["graphqlUrl"], data="{}", headers={"host": host(cfg)})
        SigV4Auth(Credentials("testing", "testing"), "appsync", "us-east-1").add_auth(req)
        iam = {**dict(req.headers), "host": host(cfg)}
        msg = start(ws, "iam", iam)
        assert msg["type"] == "error" and msg["id"] == "iam"
        assert msg["payload"]["errors"][0]["errorType"] == "Unauthorized"
        msg = start(ws, "nokey", {"host": host(cfg), "x-api-key": "da2-wrong"})
        assert msg["payload"]["errors"][0]["errorType"] == "UnauthorizedException"
        msg = start(ws, "q", api_key_header(cfg), query="query { listDisplays { displayId } }")
        assert msg["payload"]["errors"][0]["errorType"] == "UnsupportedOperation"
    # resetDisplay: operators (Cognito group) or IAM; not a tablet user, not the API key.
    tablet = stack.tablet_token(1)
    denied = mutate(cfg, RESET, {"d": "1"}, {"Authorization": tablet}).json()
    assert denied["data"] == {"resetDisplay": None} and denied["errors"][0]["errorType"] == "Unauthorized"
    denied = mutate(cfg, RESET, {"d": "1"}, {"x-api-key": cfg["apiKey"]}).json()
    assert denied["errors"][0]["errorType"] == "Unauthorized"
    assert mutate(cfg, RESET, {"d": "1"}, {"x-api-key": "da2-wrong"}).status_code == 401
    assert mutate(cfg, RESET, {"d": "1"}, {}).status_code == 401
    # The API key reads displays.
    listed = mutate(cfg, "query { listDisplays { displayId } }", {}, {"x-api-key": cfg["apiKey"]}).json()
    assert "errors" not in listed and isinstance(listed["data"]["listDisplays"], list)


def test_malformed_frames_are_answered_and_the_connection_lives_on(cfg, served, operator):
    with open_socket(cfg) as ws:
        init(ws)
        for frame, error_type in [
            ("not json {", "MalformedMessage"),
            ("[1, 2]", "MalformedMessage"),
            (json.dumps({"type": "subscribe", "id": "x"}), "UnknownOperationError"),
            (json.dumps({"type": "start"}), "MalformedMessage"),
            (json.dumps({"type": "start", "id": "m", "payload": {"data": "{nope"}}), "MalformedMessage"),
            (json.dumps({"type": "start", "id": "m", "payload": {"data": "{}"}}), "MalformedMessage"),
            (json.dumps({"type": "stop"}), "MalformedMessage"),
        ]:
            ws.send(frame)
            msg = recv(ws)
            assert msg["type"] == "error" and msg["payload"]["errors"][0]["errorType"] == error_type, (frame, msg)
        ws.send(b"\x00\x01binary")
        assert recv(ws)["payload"]["errors"][0]["errorType"] == "UnsupportedOperation"
        bad = start(ws, "bad", api_key_header(cfg), query="subscription { onDisplayUpdated { nope } }")
        assert bad["type"] == "error" and bad["id"] == "bad"
        assert start(ws, "ok", api_key_header(cfg), {"d": "8"})["type"] == "start_ack"
        dup = start(ws, "ok", api_key_header(cfg), {"d": "8"})
        assert dup["payload"]["errors"][0]["errorType"] == "DuplicatedOperationError"
        # Still a working subscription after all that.
        mutate(cfg, RESET, {"d": "8"}, {"Authorization": operator["IdToken"]})
        assert recv(ws)["id"] == "ok"
    with open_socket(cfg) as ws:  # and the server still takes new connections
        init(ws)


def test_a_refused_or_dropped_endpoint(cfg, served):
    served.realtime.refuse()
    with pytest.raises(Exception):  # noqa: B017 - the handshake fails with HTTP 503
        open_socket(cfg).__enter__()
    served.realtime.refuse(False)
    with open_socket(cfg) as ws:
        init(ws)
        served.realtime.drop_connections()
        with pytest.raises(Exception):  # noqa: B017 - the socket dies without a close frame
            while True:
                ws.recv(timeout=5)
