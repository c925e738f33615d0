"""AppSync's real-time endpoint, locally: GraphQL subscriptions over the AppSync WebSocket protocol.

The protocol is the one AWS documents for AppSync GraphQL APIs ("Building a real-time WebSocket
client"), so the same display client runs against AWS and against the local stack:

- the client connects to the real-time URL with the `graphql-ws` subprotocol and its
  authorization header as a JSON object, base64 encoded, either as a second subprotocol
  `header-<base64url>` (current clients) or as `?header=<base64>&payload=e30=` (older ones);
- `connection_init` -> `connection_ack` with `connectionTimeoutMs`, then `ka` keep-alives;
- `start` (id; payload.data: a JSON string of {query, variables}; payload.extensions.authorization:
  the same kind of header object) -> `start_ack`, or `error` with the id;
- `data` for each mutation named in the field's `@aws_subscribe`, with only the fields the
  mutation selected (fields the subscription asks for and the mutation did not are null), and
  only where the subscription's arguments match the mutation's result;
- `stop` -> `complete`; `connection_error` when the connection cannot be authorized.

Authorization is LocalAppSync's (API key, Cognito JWT, SigV4 presence, field directives).
A malformed frame is answered with an `error` and never ends the connection or the server.
`drop_connections` and `refuse` let tests kill the socket the way a network does."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlparse

import graphql
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gallery_local.appsync_local import (
    LocalAppSync,
    Unauthorized,
    authorized,
    directive_argument,
    flatten_fields,
    fragments_of,
    root_fields,
)

SUBPROTOCOL = "graphql-ws"
HEADER_SUBPROTOCOL_PREFIX = "header-"
CONNECTION_TIMEOUT_MS = 300_000  # what AWS announces in connection_ack
NOT_AUTHORIZED = "You are not authorized to make this call."

log = logging.getLogger(__name__)


def decode_header(encoded: str) -> dict:
    """A base64 (standard or URL-safe, padded or not) JSON object; ValueError otherwise."""
    text = encoded.strip().replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        value = json.loads(raw)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"the header is not base64-encoded JSON: {e}") from None
    if not isinstance(value, dict):
        raise ValueError("the header is not a JSON object")
    return value


def encode_header(header: dict) -> str:
    """The `header-...` subprotocol value's base64url part (no padding), as clients send it."""
    return base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")


@dataclass
class Subscription:
    id: str
    field_name: str  # the Subscription field, e.g. onDisplayUpdated
    response_key: str  # its alias or name
    arguments: dict  # the arguments the client gave (omitted ones are absent)
    selection: list  # FieldNodes the subscriber selected
    mutations: tuple[str, ...]  # from @aws_subscribe


@dataclass(eq=False)
class _Client:
    ws: ServerConnection
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    acked: bool = False
    ka_task: asyncio.Task | None = None


class RealtimeServer:
    def __init__(self, appsync: LocalAppSync, port: int = 0, keepalive_seconds: float = 60.0) -> None:
        self.appsync = appsync
        self.port = port
        self.keepalive_seconds = keepalive_seconds
        self.refusing = False  # True: new handshakes get 503 (an endpoint that is down)
        self._clients: set[_Client] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="appsync-realtime", daemon=True)
        self._subscribe_fields = self._subscription_fields()
        self.frames_in = 0  # every frame received, malformed ones included (tests read it)

    # ------------------------------------------------------------------ life cycle
    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def start(self) -> RealtimeServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the real-time server did not start")
        self.appsync.subscribe(self._on_mutation)
        return self

    def stop(self) -> None:
        self.appsync.unsubscribe(self._on_mutation)
        loop, stop = self._loop, self._stop
        if loop and stop and not loop.is_closed():

            def finish() -> None:
                if not stop.done():
                    stop.set_result(None)

            loop.call_soon_threadsafe(finish)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        async with serve(
            self._handle,
            "127.0.0.1",
            self.port,
            select_subprotocol=_select_subprotocol,
            process_request=self._process_request,
            logger=logging.getLogger("gallery_local.appsync_realtime.ws"),
            max_size=256 * 1024,
        ) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop
            for client in list(self._clients):
                client.ws.transport.abort()

    # ------------------------------------------------------------------ what tests use
    @property
    def connections(self) -> int:
        return len(self._clients)

    @property
    def subscriptions(self) -> int:
        return sum(len(c.subscriptions) for c in list(self._clients))

    def drop_connections(self) -> None:
        """Cut every connection without a close frame, as a dead network does."""
        if self._loop:
            for client in list(self._clients):
                self._loop.call_soon_threadsafe(client.ws.transport.abort)

    def refuse(self, refusing: bool = True) -> None:
        self.refusing = refusing

    # ------------------------------------------------------------------ handshake
    def _process_request(self, connection: ServerConnection, request: Any) -> Any:
        if self.refusing:
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "The real-time endpoint is unavailable.\n")
        if urlparse(request.path).path.rstrip("/") not in ("/graphql", ""):
            return connection.respond(HTTPStatus.NOT_FOUND, "Not found.\n")
        return None

    def _connection_header(self, connection: ServerConnection) -> dict:
        """The authorization header of the connection: subprotocol first, then the query string."""
        request = connection.request
        if request is None:  # not before the handshake, which is where this is called from
            return {}
        offered = [p.strip() for v in request.headers.get_all("Sec-WebSocket-Protocol") for p in v.split(",")]
        for p in offered:
            if p.startswith(HEADER_SUBPROTOCOL_PREFIX):
                return decode_header(p[len(HEADER_SUBPROTOCOL_PREFIX) :])
        query = parse_qs(urlparse(request.path).query)
        if "header" in query:
            return decode_header(query["header"][0])
        raise ValueError("no authorization header (header-... subprotocol or ?header=)")

    async def _handle(self, ws: ServerConnection) -> None:
        if ws.subprotocol != SUBPROTOCOL:
            error = {"message": "SubProtocolNotSupportedError", "errorCode": 400}
            await _send(ws, {"type": "connection_error", "payload": {"errors": [error]}})
            await ws.close(1002, "graphql-ws subprotocol required")
            return
        try:
            header = self._connection_header(ws)
            if not header.get("host"):
                raise Unauthorized("the header has no host")
            self.appsync.identity(header)
        except (ValueError, Unauthorized) as e:
            log.info("real-time connection refused: %s", e)
            error = {"errorType": "UnauthorizedException", "message": NOT_AUTHORIZED, "errorCode": 401}
            await _send(ws, {"type": "connection_error", "payload": {"errors": [error]}})
            await ws.close(1000)
            return
        client = _Client(ws)
        self._clients.add(client)
        try:
            async for frame in ws:
                self.frames_in += 1
                try:
                    await self._frame(client, frame)
                except ConnectionClosed:
                    raise
                except Exception as e:  # noqa: BLE001 - a bad frame never takes the server down
                    log.warning("real-time frame failed: %s", e)
                    await _send(ws, _error(None, "InternalFailure", "The message could not be processed."))
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            if client.ka_task:
                client.ka_task.cancel()

    # ------------------------------------------------------------------ messages
    async def _frame(self, client: _Client, frame: str | bytes) -> None:
        ws = client.ws
        if isinstance(frame, bytes):
            await _send(ws, _error(None, "UnsupportedOperation", "Binary frames are not supported."))
            return
        try:
            message = json.loads(frame)
        except ValueError:
            await _send(ws, _error(None, "MalformedMessage", "The message is not valid JSON."))
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await _send(ws, _error(None, "MalformedMessage", "The message has no type."))
            return
        kind, sub_id = message["type"], message.get("id")
        if kind == "connection_init":
            if not client.acked:
                client.acked = True
                await _send(ws, {"type": "connection_ack", "payload": {"connectionTimeoutMs": CONNECTION_TIMEOUT_MS}})
                client.ka_task = asyncio.create_task(self._keepalive(ws))
        elif kind == "start":
            await self._start(client, sub_id, message.get("payload"))
        elif kind == "stop":
            if not isinstance(sub_id, str) or not sub_id:
                await _send(ws, _error(None, "MalformedMessage", "stop needs the subscription's id."))
                return
            client.subscriptions.pop(sub_id, None)
            await _send(ws, {"type": "complete", "id": sub_id})
        else:
            known_id = sub_id if isinstance(sub_id, str) else None
            await _send(ws, _error(known_id, "UnknownOperationError", f"Unknown operation type: {kind[:64]}"))

    async def _keepalive(self, ws: ServerConnection) -> None:
        try:
            while True:
                await _send(ws, {"type": "ka"})
                await asyncio.sleep(self.keepalive_seconds)
        except (ConnectionClosed, asyncio.CancelledError):
            pass

    async def _start(self, client: _Client, sub_id: Any, payload: Any) -> None:
        ws = client.ws
        if not isinstance(sub_id, str) or not sub_id:
            await _send(ws, _error(None, "MalformedMessage", "start needs a non-empty string id."))
            return
        if sub_id in client.subscriptions:
            await _send(ws, _error(sub_id, "DuplicatedOperationError", f"Duplicated operation with id {sub_id}"))
            return
        try:
            if not isinstance(payload, dict) or not isinstance(payload.get("data"), str):
                raise _Refused("MalformedMessage", "payload.data must be a JSON string of {query, variables}.")
            try:
                data = json.loads(payload["data"])
            except ValueError:
                raise _Refused("MalformedMessage", "payload.data is not valid JSON.") from None
            if not isinstance(data, dict) or not isinstance(data.get("query"), str):
                raise _Refused("MalformedMessage", "payload.data has no query.")
            variables = data.get("variables") or {}
            if not isinstance(variables, dict):
                raise _Refused("MalformedMessage", "variables must be an object.")
            authorization = (payload.get("extensions") or {}).get("authorization")
            if not isinstance(authorization, dict):
                raise _Refused("UnauthorizedException", NOT_AUTHORIZED)
            try:
                identity = self.appsync.identity(authorization)
            except Unauthorized:
                raise _Refused("UnauthorizedException", NOT_AUTHORIZED) from None
            subscription = self._parse(sub_id, data["query"], variables, data.get("operationName"))
            parent = _subscriptions(self.appsync.schema)
            if not authorized(identity, parent, subscription.field_name):
                raise _Refused("Unauthorized", f"Not Authorized to access {subscription.field_name} on type {parent}")
        except _Refused as e:
            await _send(ws, _error(sub_id, e.error_type, e.message))
            return
        client.subscriptions[sub_id] = subscription
        await _send(ws, {"type": "start_ack", "id": sub_id})

    def _parse(self, sub_id: str, query: str, variables: dict, operation_name: Any) -> Subscription:
        schema = self.appsync.schema
        try:
            document = graphql.parse(query)
        except graphql.GraphQLError as e:
            raise _Refused("GraphQLError", e.message) from None
        errors = graphql.validate(schema, document)
        if errors:
            raise _Refused("GraphQLError", "; ".join(e.message for e in errors))
        op = graphql.get_operation_ast(document, operation_name if isinstance(operation_name, str) else None)
        if op is None or op.operation != graphql.OperationType.SUBSCRIPTION:
            raise _Refused("UnsupportedOperation", "Only subscriptions can be started on the real-time endpoint.")
        fragments = fragments_of(document)
        fields = [f for f in root_fields(document, op, fragments) if f.name.value != "__typename"]
        if len(fields) != 1:
            raise _Refused("UnsupportedOperation", "A subscription selects exactly one field.")
        node = fields[0]
        field_def = _subscriptions(schema).fields[node.name.value]
        coerced = graphql.get_variable_values(schema, op.variable_definitions or [], variables)
        if isinstance(coerced, list):  # errors
            raise _Refused("GraphQLError", "; ".join(e.message for e in coerced))
        arguments = graphql.get_argument_values(field_def, node, coerced)
        return Subscription(
            id=sub_id,
            field_name=node.name.value,
            response_key=(node.alias or node.name).value,
            arguments=arguments,
            selection=flatten_fields(node.selection_set, fragments),
            mutations=self._subscribe_fields.get(node.name.value, ()),
        )

    def _subscription_fields(self) -> dict[str, tuple[str, ...]]:
        """Subscription field -> the mutations of its @aws_subscribe directive."""
        out: dict[str, tuple[str, ...]] = {}
        sub_type = self.appsync.schema.subscription_type
        for name, fdef in (sub_type.fields if sub_type else {}).items():
            for d in fdef.ast_node.directives or []:
                if d.name.value == "aws_subscribe":
                    out[name] = tuple(directive_argument(d, "mutations") or ())
        return out

    # ------------------------------------------------------------------ fan-out
    def _on_mutation(self, field_name: str, value: Any, document: graphql.DocumentNode) -> None:
        """LocalAppSync calls this in the mutation's thread, after the resolver succeeded."""
        if not isinstance(value, dict) or self._loop is None:
            return
        selected = _mutation_selection(document, field_name, value)
        for client in list(self._clients):
            for sub in list(client.subscriptions.values()):
                try:
                    if field_name not in sub.mutations or not _matches(sub.arguments, selected):
                        continue
                    data = {sub.response_key: _project(sub.selection, selected, self.appsync.schema, sub.field_name)}
                    message = {"type": "data", "id": sub.id, "payload": {"data": data}}
                    asyncio.run_coroutine_threadsafe(_send_quietly(client.ws, message), self._loop)
                except Exception as e:  # noqa: BLE001 - the other subscriptions still get theirs
                    # The subscription and the error only: the value is a visitor's result.
                    log.warning("subscription %s failed on %s: %s: %s", sub.id, field_name, type(e).__name__, e)


class _Refused(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type, self.message = error_type, message


def _select_subprotocol(connection: ServerConnection, subprotocols: Sequence[Subprotocol]) -> Subprotocol | None:
    # Accept the connection without a subprotocol when graphql-ws is not offered, so that the
    # client can be told why (connection_error), as AppSync does.
    return Subprotocol(SUBPROTOCOL) if SUBPROTOCOL in subprotocols else None


def _subscriptions(schema: graphql.GraphQLSchema) -> graphql.GraphQLObjectType:
    """The schema's Subscription type (appsync/schema.graphql has one)."""
    if schema.subscription_type is None:
        raise RuntimeError("The AppSync schema has no Subscription type.")
    return schema.subscription_type


def _error(sub_id: str | None, error_type: str, message: str) -> dict:
    out: dict[str, Any] = {"type": "error", "payload": {"errors": [{"errorType": error_type, "message": message}]}}
    if sub_id:
        out["id"] = sub_id
    return out


async def _send(ws: ServerConnection, message: dict) -> None:
    await ws.send(json.dumps(message, default=str))


async def _send_quietly(ws: ServerConnection, message: dict) -> None:
    try:
        await _send(ws, message)
    except ConnectionClosed:
        pass


def _mutation_selection(document: graphql.DocumentNode, field_name: str, value: dict) -> dict:
    """{field name: value} of what the mutation selected on `field_name` (aliases undone)."""
    fragments = fragments_of(document)
    for op in document.definitions:
        if isinstance(op, graphql.OperationDefinitionNode) and op.operation == graphql.OperationType.MUTATION:
            for node in root_fields(document, op, fragments):
                if node.name.value == field_name:
                    out = {}
                    for sel in flatten_fields(node.selection_set, fragments):
                        key = (sel.alias or sel.name).value
                        if key in value and sel.name.value != "__typename":
                            out[sel.name.value] = value[key]
                    return out
    return {}


def _matches(arguments: dict, selected: dict) -> bool:
    """AppSync's argument filter: each argument given with a value must equal the mutation's
    selected field of the same name (a field the mutation did not select never matches)."""
    for name, wanted in arguments.items():
        if wanted is None:
            continue
        if name not in selected or str(selected[name]) != str(wanted):
            return False
    return True


def _project(selection: list, selected: dict, schema: graphql.GraphQLSchema, field_name: str) -> dict:
    type_ = graphql.get_named_type(_subscriptions(schema).fields[field_name].type)
    out: dict[str, Any] = {}
    for node in selection:
        key, name = (node.alias or node.name).value, node.name.value
        out[key] = type_.name if name == "__typename" else selected.get(name)
    return out
