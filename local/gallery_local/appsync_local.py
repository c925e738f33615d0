"""AppSync, locally: the GraphQL API of appsync/schema.graphql on loopback.

Queries and mutations run through graphql-core against the same schema file the template
deploys; resolvers do what appsync/resolvers/*.js do, on the local DisplaysTable. Every
mutation result is also handed to subscribers (see `subscribe`); appsync_realtime.py serves
them over the AppSync real-time WebSocket protocol.

Authorization follows AppSync's multi-auth rules once `configure_auth` is called (the local
stack does at start): the request's mode is told by its headers (x-api-key: API key; an
`AWS4-HMAC-SHA256` Authorization: IAM, whose signature and `appsync:GraphQL` permission on each
field are checked against the signer's IAM policies; any other Authorization: a Cognito user
pool JWT, verified against the pool's JWKS by cognito_tokens), and each
top-level field allows the modes its directives name (the type's directives when the field has
none, the default mode AWS_IAM when neither has any), with `cognito_groups` checked."""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import graphql

from gallery import operators
from gallery_local import signatures
from gallery_local.cognito_tokens import ACCESS_TOKEN, ID_TOKEN, InvalidToken, PoolTokens, bearer
from gallery_local.http_util import LoopbackService, QuietHandler
from gallery_local.iam_local import session_credentials

# AppSync's built-in directives and scalars, which its schemas use without declaring.
APPSYNC_PRELUDE = """
directive @aws_api_key on OBJECT | FIELD_DEFINITION
directive @aws_iam on OBJECT | FIELD_DEFINITION
directive @aws_oidc on OBJECT | FIELD_DEFINITION
directive @aws_lambda on OBJECT | FIELD_DEFINITION
directive @aws_cognito_user_pools(cognito_groups: [String]) on OBJECT | FIELD_DEFINITION
directive @aws_auth(cognito_groups: [String]) on FIELD_DEFINITION
directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION
scalar AWSDateTime
scalar AWSDate
scalar AWSTime
scalar AWSTimestamp
scalar AWSEmail
scalar AWSJSON
scalar AWSURL
scalar AWSPhone
scalar AWSIPAddress
"""


API_KEY, AWS_IAM, COGNITO = "API_KEY", "AWS_IAM", "AMAZON_COGNITO_USER_POOLS"
DEFAULT_AUTH = AWS_IAM  # template.yaml: GraphQLApi AuthenticationType
_MODE_DIRECTIVES = {"aws_api_key": API_KEY, "aws_iam": AWS_IAM, "aws_cognito_user_pools": COGNITO}
NOT_AUTHORIZED = "You are not authorized to make this call."

log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Unauthorized(Exception):
    """The request carries no valid credentials (AppSync answers 401 UnauthorizedException)."""


@dataclass
class Identity:
    mode: str
    claims: dict = field(default_factory=dict)

    @property
    def groups(self) -> set[str]:
        return operators.groups(self.claims)


@dataclass
class AuthConfig:
    api_key: str
    tokens: PoolTokens  # the user pool's JWTs (the stack's one verifier, shared with the API)

    def identity(self, headers: dict) -> Identity:
        """The caller of an HTTP request or of a real-time connection/start, from its headers."""
        headers = {str(k).lower(): v for k, v in (headers or {}).items() if isinstance(v, str)}
        if "x-api-key" in headers:
            if headers["x-api-key"] != self.api_key:
                raise Unauthorized("invalid API key")
            return Identity(API_KEY)
        auth = headers.get("authorization", "")
        if not auth:
            raise Unauthorized("no credentials")
        if auth.startswith("AWS4-HMAC-SHA256 "):
            # Presence only: a SigV4 Authorization and its date (the local stack has no IAM).
            if not all(p in auth for p in ("Credential=", "SignedHeaders=", "Signature=")) or not (
                headers.get("x-amz-date") or headers.get("date")
            ):
                raise Unauthorized("malformed SigV4 signature")
            return Identity(AWS_IAM)
        # AppSync takes IdTokens and AccessTokens of the pool, whatever their app client.
        try:
            claims = self.tokens.claims(bearer(auth), token_uses=(ID_TOKEN, ACCESS_TOKEN))
        except InvalidToken as e:
            raise Unauthorized(f"invalid token: {e}") from None
        return Identity(COGNITO, claims)


def directive_argument(directive: graphql.DirectiveNode, name: str) -> Any:
    """The value of a directive's argument (e.g. @aws_subscribe's mutations); None if absent."""
    for arg in directive.arguments or []:
        if arg.name.value == name:
            return graphql.value_from_ast_untyped(arg.value)
    return None


def _directive_modes(node: Any) -> dict[str, list[str] | None] | None:
    """{mode: cognito_groups or None} named by a field's or type's auth directives; None if none."""
    modes: dict[str, list[str] | None] = {}
    for d in getattr(node, "directives", None) or []:
        mode = _MODE_DIRECTIVES.get(d.name.value)
        if mode is not None:
            modes[mode] = directive_argument(d, "cognito_groups")
    return modes or None


def allowed_modes(parent: graphql.GraphQLObjectType, field_name: str) -> dict[str, list[str] | None]:
    fdef = parent.fields[field_name]
    return _directive_modes(fdef.ast_node) or _directive_modes(parent.ast_node) or {DEFAULT_AUTH: None}


def authorized(identity: Identity | None, parent: graphql.GraphQLObjectType, field_name: str) -> bool:
    if identity is None:  # auth not configured: the lenient default of the bare local stack
        return True
    modes = allowed_modes(parent, field_name)
    if identity.mode not in modes:
        return False
    groups = modes[identity.mode]
    return not groups or bool(set(groups) & set(identity.groups))


def fragments_of(document: graphql.DocumentNode) -> dict[str, graphql.FragmentDefinitionNode]:
    """The document's named fragments, by name (what flatten_fields resolves spreads with)."""
    return {d.name.value: d for d in document.definitions if isinstance(d, graphql.FragmentDefinitionNode)}


def root_fields(
    document: graphql.DocumentNode, operation: graphql.OperationDefinitionNode, fragments: dict | None = None
) -> list:
    """The top-level FieldNodes of an operation, fragments flattened (`fragments`: the
    document's, when the caller has them already)."""
    return flatten_fields(operation.selection_set, fragments_of(document) if fragments is None else fragments)


def flatten_fields(selection_set: Any, fragments: dict) -> list:
    out = []
    for sel in (selection_set.selections if selection_set else []) or []:
        if isinstance(sel, graphql.FieldNode):
            out.append(sel)
        elif isinstance(sel, graphql.InlineFragmentNode):
            out += flatten_fields(sel.selection_set, fragments)
        elif isinstance(sel, graphql.FragmentSpreadNode) and sel.name.value in fragments:
            out += flatten_fields(fragments[sel.name.value].selection_set, fragments)
    return out


@dataclass
class _Request:
    """A parsed and validated HTTP operation (a query or a mutation)."""

    document: graphql.DocumentNode
    operation: graphql.OperationDefinitionNode
    operation_name: str | None
    parent: graphql.GraphQLObjectType  # Query or Mutation
    fields: list  # its root FieldNodes, fragments flattened


class _Answer(Exception):
    """A step's final answer to the request (errors AppSync returns instead of executing)."""

    def __init__(self, body: dict) -> None:
        super().__init__(body)
        self.body = body


class LocalAppSync(LoopbackService):
    def __init__(
        self, schema_path: Path, aws_endpoint: str, displays_table: str, credentials: dict[str, str] | None = None
    ) -> None:
        self.schema = graphql.build_schema(APPSYNC_PRELUDE + Path(schema_path).read_text())
        # The data source reads and writes with its own role, as AppSync's does.
        session = boto3.session.Session(**session_credentials(credentials))
        self.table = session.resource("dynamodb", endpoint_url=aws_endpoint).Table(displays_table)
        self.lock = threading.Lock()
        self.mutations: list[dict] = []  # every mutation result, in order (tests and the demo read it)
        # Subscribers of every mutation result, by the id subscribe() gave them.
        self._listeners: dict[str, Callable[[str, dict, graphql.DocumentNode], None]] = {}
        self._listener_ids = itertools.count(1)
        self.down = False  # True answers 503, to rehearse an AppSync outage
        self.auth: AuthConfig | None = None  # None: any credentials are accepted (see configure_auth)
        self.api_arn: str | None = None  # None: an IAM caller's SigV4 is checked for shape only
        self.account_id: str | None = None
        super().__init__(_Handler)

    def configure_auth(
        self, api_key: str, tokens: PoolTokens, api_arn: str | None = None, account_id: str | None = None
    ) -> None:
        """Enforce AppSync's multi-auth: the API key, Cognito JWTs of the pool, and SigV4. With
        api_arn, an IAM caller's signature is verified and it must be allowed appsync:GraphQL on
        each field it calls (signatures); without, a SigV4 header is only checked for shape."""
        self.auth = AuthConfig(api_key, tokens)
        self.api_arn, self.account_id = api_arn, account_id

    def check_iam(self, method: str, url: str, headers: dict, body: bytes) -> None:
        """Raises Unauthorized unless the SigV4 signer may call every root field of the request."""
        if self.api_arn is None:
            return
        try:
            request = json.loads(body)
            document = graphql.parse(str(request.get("query") or ""))
            op = graphql.get_operation_ast(document, request.get("operationName"))
        except (ValueError, AttributeError, graphql.GraphQLError):
            return  # execute() answers malformed requests itself
        if op is None:
            return
        type_name = {"mutation": "Mutation", "subscription": "Subscription"}.get(op.operation.value, "Query")
        resources = [f"{self.api_arn}/types/{type_name}/fields/{f.name.value}" for f in root_fields(document, op)]
        if self.account_id is None:  # configure_auth sets it with api_arn
            raise Unauthorized("No account to check the signature in.")
        try:
            signatures.check_header_signed(self.account_id, method, url, headers, body, "appsync:GraphQL", resources)
        except (signatures.Refused, KeyError, ValueError) as e:
            raise Unauthorized(str(e)) from e

    def identity(self, headers: dict) -> Identity | None:
        """Raises Unauthorized; None while auth is not configured."""
        if self.auth is None:
            if not any(str(k).lower() in ("authorization", "x-api-key") for k in (headers or {})):
                raise Unauthorized("no credentials")
            return None
        return self.auth.identity(headers)

    @property
    def url(self) -> str:
        return f"{self.server.url}/graphql"

    # Resolvers, mirroring appsync/resolvers/*.js
    def _put(self, item: dict) -> dict:
        item = {k: v for k, v in item.items() if v is not None}
        item["updatedAt"] = _now()
        with self.lock:
            self.table.put_item(Item=item)
        return item

    def _root(self) -> dict:
        return {
            "publishResult": lambda info, input: self._put(dict(input)),
            "resetDisplay": lambda info, displayId: self._put({"displayId": displayId, "status": "DEFAULT"}),
            "getDisplay": lambda info, displayId: self.table.get_item(Key={"displayId": displayId}).get("Item"),
            "listDisplays": lambda info: self.table.scan()["Items"],
        }

    def execute(
        self, query: str, variables: dict | None, identity: Identity | None = None, operation_name: str | None = None
    ) -> dict:
        """One HTTP GraphQL request: parse and validate, authorise each root field, execute, and
        hand a mutation's results to the subscribers. Returns the response body."""
        try:
            request = self._parse(query, operation_name)
            self._authorise(request, identity)
        except _Answer as answer:
            return answer.body
        out, data = self._execute(request, variables)
        if request.operation.operation == graphql.OperationType.MUTATION and data:
            self._fan_out(request, variables, data)
        return out

    def _parse(self, query: str, operation_name: str | None) -> _Request:
        """The operation to run; _Answer with AppSync's errors for what cannot run over HTTP."""
        try:
            document = graphql.parse(query)
        except graphql.GraphQLError as e:
            raise _Answer({"errors": [e.formatted]}) from None
        errors = graphql.validate(self.schema, document)
        if errors:
            raise _Answer({"errors": [e.formatted for e in errors]})
        op = graphql.get_operation_ast(document, operation_name)
        if op is None:
            raise _Answer({"errors": [{"message": "No operation to run (give operationName)."}]})
        if op.operation == graphql.OperationType.SUBSCRIPTION:
            message = "Subscriptions run over the real-time WebSocket endpoint, not over HTTP."
            raise _Answer({"errors": [{"errorType": "UnsupportedOperation", "message": message}]})
        parent = self.schema.mutation_type if op.operation == graphql.OperationType.MUTATION else self.schema.query_type
        if parent is None:
            raise _Answer({"errors": [{"message": f"The schema has no {op.operation.value} type."}]})
        return _Request(document, op, operation_name, parent, root_fields(document, op))

    def _authorise(self, request: _Request, identity: Identity | None) -> None:
        """_Answer unless the caller may call every root field. AppSync answers 200 with a
        null field and an Unauthorized error per field it refuses."""
        parent = request.parent
        denied = [
            f for f in request.fields if f.name.value != "__typename" and not authorized(identity, parent, f.name.value)
        ]
        if not denied:
            return
        raise _Answer(
            {
                "data": {(f.alias or f.name).value: None for f in denied},
                "errors": [
                    {
                        "path": [(f.alias or f.name).value],
                        "data": None,
                        "errorType": "Unauthorized",
                        "errorInfo": None,
                        "message": f"Not Authorized to access {f.name.value} on type {parent.name}",
                    }
                    for f in denied
                ],
            }
        )

    def _execute(self, request: _Request, variables: dict | None) -> tuple[dict, dict | None]:
        """The response body, and the data the resolvers returned."""
        result = graphql.execute_sync(
            self.schema,
            request.document,
            root_value=self._root(),
            variable_values=variables or {},
            operation_name=request.operation_name,
        )
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            out["errors"] = [e.formatted for e in result.errors]
        return out, result.data

    def _fan_out(self, request: _Request, variables: dict | None, data: dict) -> None:
        """Record each mutation result and hand it to every subscriber. A subscriber that fails
        is logged and skipped: one bad subscriber never fails a mutation or starves the others."""
        # Which visit a publication was for: DisplayInput carries it, Display does not.
        inputs = [v for v in (variables or {}).values() if isinstance(v, dict)]
        visit_id = next((v["visitId"] for v in inputs if v.get("visitId")), None)
        for node in request.fields:
            value = data.get((node.alias or node.name).value)
            if value is None:
                continue
            with self.lock:
                self.mutations.append({"field": node.name.value, "value": value, "visitId": visit_id})
            # Listeners get the field's name (not its alias), its result as selected, and the
            # document with the mutation's selection set (subscribers get only those fields).
            for subscription_id, listener in list(self._listeners.items()):
                try:
                    listener(node.name.value, value, request.document)
                except Exception as e:  # noqa: BLE001 - logged; the mutation has succeeded
                    # The field and the error only: the value is a visitor's result.
                    log.warning(
                        "subscriber %s failed on %s: %s: %s", subscription_id, node.name.value, type(e).__name__, e
                    )

    def subscribe(self, listener: Callable[[str, dict, graphql.DocumentNode], None]) -> str:
        """Hand every mutation result to `listener`; the subscription's id (for logs)."""
        subscription_id = f"{getattr(listener, '__qualname__', 'listener')}#{next(self._listener_ids)}"
        self._listeners[subscription_id] = listener
        return subscription_id

    def unsubscribe(self, listener: Callable | str) -> None:
        """Stop handing results to `listener` (the callable, or the id subscribe() gave it)."""
        for subscription_id, known in list(self._listeners.items()):
            if listener == subscription_id or listener == known:
                self._listeners.pop(subscription_id, None)

    def published_for(self, visit_id: str) -> list[dict]:
        """What was published for one visit (tests and the demo; no client can ask this)."""
        with self.lock:
            return [m["value"] for m in self.mutations if m.get("visitId") == visit_id]

    def published(self, display_id: str | None = None) -> list[dict]:
        with self.lock:
            return [
                m["value"]
                for m in self.mutations
                if display_id is None or m["value"].get("displayId") == str(display_id)
            ]


class _Handler(QuietHandler):
    def do_POST(self) -> None:  # noqa: N802
        appsync: LocalAppSync = self.server.app
        raw = self.body()
        if appsync.down:
            self.reply(503, b'{"errors":[{"message":"Service Unavailable"}]}')
            return
        try:
            identity = appsync.identity(dict(self.headers.items()))
            if identity is not None and identity.mode == AWS_IAM:
                url = f"http://{self.headers.get('Host')}{self.path}"
                appsync.check_iam("POST", url, dict(self.headers.items()), raw)
        except Unauthorized:
            body = {"errors": [{"errorType": "UnauthorizedException", "message": NOT_AUTHORIZED}]}
            self.reply(401, json.dumps(body).encode(), headers=_CORS)
            return
        try:
            request = json.loads(raw)
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError:
            self.reply(400, b'{"errors":[{"message":"Invalid JSON"}]}', headers=_CORS)
            return
        result = appsync.execute(
            str(request.get("query") or ""), request.get("variables"), identity, request.get("operationName")
        )
        self.reply(200, json.dumps(result, default=str).encode(), headers=_CORS)

    def do_OPTIONS(self) -> None:  # noqa: N802 - browsers (the admin page) preflight their POSTs
        self.reply(200, b"", headers=_CORS)


# AppSync answers CORS for any origin.
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST,OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type,Authorization,x-api-key,x-amz-date,x-amz-security-token",
}
