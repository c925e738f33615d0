"""AppSync, locally: the GraphQL API of appsync/schema.graphql on loopback.

Queries and mutations run through graphql-core against the same schema file the template
deploys; resolvers do what appsync/resolvers/*.js do, on the local DisplaysTable. Every
mutation result is also handed to subscribers (see `subscribe`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import graphql

from gallery_local.http_util import LoopbackServer, QuietHandler

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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class LocalAppSync:
    def __init__(self, schema_path: Path, aws_endpoint: str, displays_table: str) -> None:
        self.schema = graphql.build_schema(APPSYNC_PRELUDE + Path(schema_path).read_text())
        self.table = boto3.session.Session().resource("dynamodb", endpoint_url=aws_endpoint).Table(displays_table)
        self.lock = threading.Lock()
        self.mutations: list[dict] = []  # every mutation result, in order (tests and the demo read it)
        self._listeners: list[Callable[[str, dict, graphql.DocumentNode], None]] = []
        self.down = False  # True answers 503, to rehearse an AppSync outage
        self.server = LoopbackServer(_Handler)
        self.server.appsync = self

    @property
    def url(self) -> str:
        return f"{self.server.url}/graphql"

    def start(self) -> LocalAppSync:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

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

    def execute(self, query: str, variables: dict | None) -> dict:
        try:
            document = graphql.parse(query)
        except graphql.GraphQLError as e:
            return {"errors": [e.formatted]}
        errors = graphql.validate(self.schema, document)
        if errors:
            return {"errors": [e.formatted for e in errors]}
        result = graphql.execute(self.schema, document, root_value=self._root(), variable_values=variables or {})
        out: dict[str, Any] = {"data": result.data}
        if result.errors:
            out["errors"] = [e.formatted for e in result.errors]
        op = graphql.get_operation_ast(document)
        if op and op.operation == graphql.OperationType.MUTATION and result.data:
            for field_name, value in result.data.items():
                if value is None:
                    continue
                with self.lock:
                    self.mutations.append({"field": field_name, "value": value})
                for listener in list(self._listeners):
                    listener(field_name, value, document)
        return out

    def subscribe(self, listener: Callable[[str, dict, graphql.DocumentNode], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def published(self, display_id: str | None = None) -> list[dict]:
        with self.lock:
            return [
                m["value"]
                for m in self.mutations
                if display_id is None or m["value"].get("displayId") == str(display_id)
            ]


class _Handler(QuietHandler):
    def do_POST(self) -> None:  # noqa: N802
        appsync: LocalAppSync = self.server.owner.appsync
        raw = self.body()
        if appsync.down:
            self.reply(503, b'{"errors":[{"message":"Service Unavailable"}]}')
            return
        if not self.headers.get("Authorization") and not self.headers.get("x-api-key"):
            self.reply(
                401,
                json.dumps(
                    {
                        "errors": [
                            {
                                "errorType": "UnauthorizedException",
                                "message": "Valid authorization header not provided.",
                            }
                        ]
                    }
                ).encode(),
            )
            return
        try:
            request = json.loads(raw)
        except ValueError:
            self.reply(400, b'{"errors":[{"message":"Invalid JSON"}]}')
            return
        result = appsync.execute(request.get("query", ""), request.get("variables"))
        self.reply(200, json.dumps(result, default=str).encode())
