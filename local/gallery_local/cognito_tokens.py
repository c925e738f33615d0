"""The local user pool's JWTs, checked the way AWS's front doors check them.

On AWS no function verifies a token: API Gateway's Cognito authorizer and AppSync's user-pool
mode do, and hand the handler the claims. Locally api_local and appsync_local play those parts,
so the check lives here, in the local stack, once: the signature against the pool's JWKS (the
local moto server's), the issuer (the AWS-style URL moto writes into tokens, hence a separate
setting), the expiry, the token use and, where the caller names one, the audience.

What the claims mean (e.g. `cognito:groups`) is the layer's: gallery.operators.groups reads them
for the handlers and for the local AppSync alike."""

from __future__ import annotations

from collections.abc import Collection

import jwt

ID_TOKEN, ACCESS_TOKEN = "id", "access"


class InvalidToken(Exception):
    """The token is missing, malformed, unsigned by the pool, expired, or of the wrong kind."""


def bearer(authorization: str) -> str:
    """The token of an Authorization header, with or without its `Bearer ` prefix."""
    authorization = authorization or ""
    return authorization[7:] if authorization.lower().startswith("bearer ") else authorization


class PoolTokens:
    """Verifies JWTs of one user pool. One per stack: its JWKS is fetched once and cached."""

    def __init__(self, jwks_url: str, issuer: str) -> None:
        self.jwks_url, self.issuer = jwks_url, issuer
        self._jwks = jwt.PyJWKClient(jwks_url)

    def claims(self, token: str, token_uses: Collection[str] = (ID_TOKEN,), audience: str | None = None) -> dict:
        """The verified claims of `token`; InvalidToken otherwise. With `audience` (an app
        client id) its `aud` must match; AccessTokens have none, so AppSync passes None."""
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self.issuer,
                audience=audience,
                options={"verify_aud": audience is not None},
            )
        except (jwt.PyJWTError, ValueError) as e:
            raise InvalidToken(str(e)) from None
        if claims.get("token_use") not in token_uses:
            raise InvalidToken(f"token_use {claims.get('token_use')!r} is not one of {sorted(token_uses)}")
        return claims
