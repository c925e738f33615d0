"""The local stack's one check of user-pool JWTs (gallery_local.cognito_tokens), as the local API
Gateway (IdTokens of the app client) and the local AppSync (IdTokens and AccessTokens) use it,
and the layer's one reading of cognito:groups behind both."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gallery import operators
from gallery_local.api_local import LocalApi, Route
from gallery_local.appsync_local import API_KEY, COGNITO, AuthConfig, LocalAppSync, Unauthorized, authorized
from gallery_local.cognito_tokens import ACCESS_TOKEN, ID_TOKEN, InvalidToken, PoolTokens, bearer
from gallery_local.http_util import LoopbackServer, QuietHandler

ROOT = Path(__file__).resolve().parents[2]
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_local"
CLIENT_ID = "client-1"
KID = "pool-key"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


POOL_KEY, OTHER_KEY = _key(), _key()


@pytest.fixture(scope="module")
def jwks_url():
    """The pool's JWKS on loopback, as the local moto server serves it."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(POOL_KEY.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}).encode()

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.reply(200, body)

    server = LoopbackServer(Handler, None).start()
    yield f"{server.url}/.well-known/jwks.json"
    server.stop()


@pytest.fixture
def tokens(jwks_url) -> PoolTokens:
    return PoolTokens(jwks_url, ISSUER)


def token(token_use: str = ID_TOKEN, key=POOL_KEY, **claims) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "sub": "u-1", "token_use": token_use, "iat": now, "exp": now + 600, **claims}
    if token_use == ID_TOKEN:
        body.setdefault("aud", CLIENT_ID)
    else:
        body.setdefault("client_id", CLIENT_ID)
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": KID})


# ---------------------------------------------------------------- PoolTokens
def test_an_id_token_of_the_app_client_is_verified(tokens):
    claims = tokens.claims(token(**{"cognito:groups": ["operators"]}), audience=CLIENT_ID)
    assert claims["sub"] == "u-1" and claims["cognito:groups"] == ["operators"]


@pytest.mark.parametrize(
    "bad",
    [
        token(aud="another-client"),
        token(iss="https://cognito-idp.us-east-1.amazonaws.com/another-pool"),
        token(exp=int(time.time()) - 60),
        token(key=OTHER_KEY),
        token(token_use=ACCESS_TOKEN),
        "not.a.jwt",
        "",
    ],
    ids=["other-audience", "other-issuer", "expired", "other-key", "access-token", "garbage", "empty"],
)
def test_the_api_authorizer_refuses(tokens, bad):
    with pytest.raises(InvalidToken):
        tokens.claims(bad, audience=CLIENT_ID)


def test_appsync_takes_access_tokens_and_any_audience(tokens):
    uses = (ID_TOKEN, ACCESS_TOKEN)
    assert tokens.claims(token(token_use=ACCESS_TOKEN), token_uses=uses)["client_id"] == CLIENT_ID
    assert tokens.claims(token(aud="another-client"), token_uses=uses)["aud"] == "another-client"
    with pytest.raises(InvalidToken):
        tokens.claims(token(token_use="refresh"), token_uses=uses)


@pytest.mark.parametrize("header", ["Bearer abc", "bearer abc", "abc"])
def test_bearer_prefix_is_optional(header):
    assert bearer(header) == "abc"


# ---------------------------------------------------------------- cognito:groups, one reader
@pytest.mark.parametrize(
    "claim, groups",
    [(["operators", "b"], {"operators", "b"}), ("operators", {"operators"}), ("[a b]", {"a", "b"}), (None, set())],
)
def test_appsync_reads_groups_as_the_handlers_do(claim, groups):
    from gallery_local.appsync_local import Identity

    claims = {} if claim is None else {"cognito:groups": claim}
    assert Identity(COGNITO, claims).groups == operators.groups(claims) == groups


# ---------------------------------------------------------------- AppSync's identity
def test_appsync_identity_by_api_key_and_by_jwt(tokens):
    auth = AuthConfig("da2-key", tokens)
    assert auth.identity({"x-api-key": "da2-key"}).mode == API_KEY
    with pytest.raises(Unauthorized):
        auth.identity({"x-api-key": "wrong"})
    operator = auth.identity({"Authorization": token(**{"cognito:groups": ["operators"]})})
    assert operator.mode == COGNITO and operator.groups == {"operators"}
    assert auth.identity({"Authorization": "Bearer " + token(token_use=ACCESS_TOKEN)}).mode == COGNITO
    with pytest.raises(Unauthorized):
        auth.identity({"Authorization": token(key=OTHER_KEY)})


def test_reset_display_needs_the_operators_group(tokens, aws_env):
    appsync = LocalAppSync(ROOT / "appsync" / "schema.graphql", "http://127.0.0.1:9", "displays")
    try:
        auth = AuthConfig("da2-key", tokens)
        mutation = appsync.schema.mutation_type
        operator = auth.identity({"Authorization": token(**{"cognito:groups": ["operators"]})})
        tablet = auth.identity({"Authorization": token()})
        assert authorized(operator, mutation, "resetDisplay")
        assert not authorized(tablet, mutation, "resetDisplay")
        assert not authorized(auth.identity({"x-api-key": "da2-key"}), mutation, "resetDisplay")
    finally:
        appsync.server.httpd.server_close()


# ---------------------------------------------------------------- the API's authorizer
class _Lambda:
    def __init__(self) -> None:
        self.events: list[dict] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict:  # noqa: N803 - boto3's names
        self.events.append(json.loads(Payload))
        return {"Payload": io.BytesIO(json.dumps({"statusCode": 200, "body": "{}"}).encode())}


@pytest.fixture
def api(tokens):
    lam = _Lambda()
    api = LocalApi([Route("GET", "/visits/{visitId}", "get-visit", True)], lam, tokens, CLIENT_ID, "dev")
    yield api, lam
    api.server.httpd.server_close()


def test_the_api_passes_verified_claims_to_the_handler(api):
    local_api, lam = api
    status, _, _ = local_api.handle("GET", "/visits/v1", {"authorization": "Bearer " + token()}, b"")
    assert status == 200
    event = lam.events[-1]
    assert event["pathParameters"] == {"visitId": "v1"}
    assert event["requestContext"]["authorizer"]["claims"]["sub"] == "u-1"


@pytest.mark.parametrize("authorization", ["", "Bearer " + token(token_use=ACCESS_TOKEN), token(aud="other")])
def test_the_api_answers_401_without_an_id_token_of_its_client(api, authorization):
    local_api, lam = api
    status, _, body = local_api.handle("GET", "/visits/v1", {"authorization": authorization}, b"")
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    assert lam.events == []
