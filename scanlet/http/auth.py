"""Bearer API keys: 401 without a valid key, 403 when its scope (or its user's role) is too
small. Who the key is and what it may do comes from ``access.principals``, the same answer the
dashboard gets for a session."""

from __future__ import annotations

from starlette.requests import Request

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import Principal, Role
from scanlet.http.problems import Problem
from scanlet.http.services import services

__all__ = ("authorize", "bearer_token", "require")

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


async def authorize(request: Request, needed: Scope) -> Principal:
    """Check the request's key against ``needed``; the key and its user are looked up on
    every request so that a revocation, a disabled user or a lowered role apply at once."""
    token = bearer_token(request)
    if token is None:
        raise Problem(
            401, "This endpoint needs an API key: Authorization: Bearer <key>.", headers=_CHALLENGE
        )
    svc = services(request)
    principal = await svc.access.by_token(token, now=svc.clock.now())
    if principal is None:
        raise Problem(
            401,
            "The API key is not valid, has expired, was revoked or its user is disabled.",
            headers=_CHALLENGE,
        )
    require(principal, Role(int(needed)))
    return principal


def require(principal: Principal, needed: Role) -> None:
    """403 unless ``principal`` has ``needed`` (the API's and the dashboard's one check)."""
    if not principal.may(needed):
        raise Problem(
            403,
            f"This needs the {needed.label} role ({Scope(min(int(needed), 3)).label} scope);"
            f" this {principal.kind} acts as {principal.role.label}.",
        )
