"""API Gateway, locally: the REST routes of template.yaml's Api events on loopback.

Routes marked with the Cognito authorizer need a valid IdToken from the local user pool,
verified like API Gateway does (cognito_tokens: signature against the pool's JWKS, issuer,
audience, expiry).
Each request becomes an API Gateway proxy event for the real handler, invoked through Lambda."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

from gallery_local.cognito_tokens import InvalidToken, PoolTokens, bearer
from gallery_local.http_util import LoopbackService, QuietHandler


@dataclass
class Route:
    method: str
    path: str  # /visits/{visitId}
    function: str
    authorized: bool

    def match(self, method: str, path: str) -> dict | None:
        if method != self.method:
            return None
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path)) + "$"
        m = re.match(pattern, path)
        return m.groupdict() if m else None


class LocalApi(LoopbackService):
    def __init__(self, routes: list[Route], lambda_client: Any, tokens: PoolTokens, client_id: str, stage: str) -> None:
        self.routes, self.lambda_client, self.stage = routes, lambda_client, stage
        # The authorizer takes the pool's IdTokens issued to the app client (aud = client id).
        self.tokens, self.client_id = tokens, client_id
        super().__init__(_Handler)

    @property
    def url(self) -> str:
        return self.server.url

    def handle(self, method: str, raw_path: str, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
        url = urlparse(raw_path)
        for route in self.routes:
            params = route.match(method, url.path)
            if params is None:
                continue
            claims = None
            if route.authorized:
                try:
                    claims = self.tokens.claims(bearer(headers.get("authorization", "")), audience=self.client_id)
                except InvalidToken:
                    return 401, {}, b'{"message":"Unauthorized"}'
            event = self._event(route, method, url, params, headers, body, claims)
            resp = self.lambda_client.invoke(FunctionName=route.function, Payload=json.dumps(event).encode())
            payload = json.loads(resp["Payload"].read())
            if resp.get("FunctionError"):
                return 502, {}, json.dumps({"message": "Internal server error"}).encode()
            out = payload.get("body") or ""
            return int(payload.get("statusCode", 200)), payload.get("headers") or {}, out.encode()
        known = any(r.match(r.method, url.path) is not None for r in self.routes)
        return (403 if not known else 405), {}, b'{"message":"Missing Authentication Token"}'

    def _event(
        self, route: Route, method: str, url: Any, params: dict, headers: dict, body: bytes, claims: dict | None
    ) -> dict:
        query = {k: v[-1] for k, v in parse_qs(url.query).items()} or None
        return {
            "resource": route.path,
            "path": url.path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": None,
            "pathParameters": params or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": method,
                "path": f"/{self.stage}{url.path}",
                "stage": self.stage,
                "requestId": str(uuid.uuid4()),
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {"sourceIp": "127.0.0.1"},
                "authorizer": {"claims": claims} if claims else None,
            },
            "body": body.decode() if body else None,
            "isBase64Encoded": False,
        }


class _Handler(QuietHandler):
    def _serve(self) -> None:
        api: LocalApi = self.server.app
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.command == "OPTIONS":
            self.reply(204, b"", headers=_CORS)
            return
        status, out_headers, body = api.handle(self.command, self.path, headers, self.body())
        self.reply(
            status,
            body,
            out_headers.get("Content-Type", "application/json"),
            {**_CORS, **{k: v for k, v in out_headers.items() if k.lower() not in ("content-type", "content-length")}},
        )

    do_GET = do_POST = do_DELETE = do_OPTIONS = _serve  # noqa: N815


_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET,POST,DELETE,OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type,Authorization",
}
