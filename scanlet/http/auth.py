"""Bearer API keys: 401 without a valid key, 403 when its scope is too small."""

from __future__ import annotations

from starlette.requests import Request

from scanlet.actors.access.keys import Scope
from scanlet.http.problems import Problem
from scanlet.http.services import services
from scanlet.storage.records import ApiKey

__all__ = ("authorize",)

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="scanlet"'}


def bearer_token(request: Request) -> str | None:
    """The token from ``Authorization: Bearer <token>``, or None."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authorize(request: Request, needed: Scope) -> ApiKey:
    """Check the request's key against ``needed``; the key is looked up on every request so
    that a revocation takes effect at once on a running server."""
    token = bearer_token(request)
    if token is None:
        raise Problem(
            401, "This endpoint needs an API key: Authorization: Bearer <key>.", headers=_CHALLENGE
        )
    svc = services(request)
    key = await svc.keys.authenticate(token, now=svc.clock.now())
    if key is None:
        raise Problem(
            401, "The API key is not valid, has expired or was revoked.", headers=_CHALLENGE
        )
    if Scope.parse(key.scope) < needed:
        raise Problem(
            403, f"This needs a key with the {needed.label} scope; this key has {key.scope}."
        )
    return key
