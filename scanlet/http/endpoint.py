"""Endpoints declared once: the same declaration builds the route and its OpenAPI entry.

Declaring the request body, parameters, responses and required scope next to the handler
means the schema cannot drift from what the server does, and auth cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scanlet.actors.access.keys import Scope
from scanlet.http.auth import authorize
from scanlet.http.scoping import refuse_if_limited, visible_slug
from scanlet.http.services import services

__all__ = ("Endpoint", "Link", "Param", "Reply", "build_routes")

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Param:
    """A query, path or header parameter as the OpenAPI document describes it.

    With ``component``, the schema is listed once under that name in the document's
    components and the parameter refers to it (for long schemas that several routes share).
    """

    name: str
    where: Literal["query", "path", "header"]
    schema: dict[str, Any]
    description: str
    required: bool = False
    component: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    """An OpenAPI link: how a response's values feed another operation (``method path``).

    ``parameters`` maps that operation's parameter names to runtime expressions such as
    ``$response.body#/slug``. Clients (and schemathesis' stateful phase) follow links to chain
    calls; a link to an operation the app does not serve (a feature switched off) is left out.
    """

    name: str
    method: str
    path: str
    parameters: Mapping[str, str]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """One documented response: status, description, and the body's type or media type.

    ``alternatives`` are further media types the same status may carry instead (a query
    parameter chooses: ``format=png``, ``format=csv``); each is documented as text or bytes.
    ``links`` lead from this response to the operations its values can be used with.
    """

    status: int
    description: str
    type: Any = None
    media_type: str = "application/json"
    headers: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A route with everything the schema and the auth check need to know about it."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    scope: Scope | None = None
    body: Any = None
    params: Sequence[Param] = ()
    replies: Sequence[Reply] = ()
    description: str = ""
    operation_id: str = ""
    include_in_schema: bool = True
    extra_problems: Sequence[int] = field(default=())
    #: Media types of a body taken as raw bytes (an image upload), not decoded as JSON;
    #: ``raw_body_example`` is one (media type, text) the document shows.
    raw_body: Sequence[str] = ()
    raw_body_example: tuple[str, str] | None = None
    #: The route is about more than codes (users) and has no view narrowed to some tags: a
    #: key or user limited to tags is refused (403).
    spans_all_codes: bool = False

    def __post_init__(self) -> None:
        # Every route that names a code by its slug takes ?domain= too (address_code),
        # and documents it: declared here once rather than on each route.
        if self.names_a_code and not any(p.name == "domain" for p in self.params):
            # Imported here: code_address reads query parameters through ``params``, which
            # imports ``Param`` from this module.
            from scanlet.http.code_address import DOMAIN_DESCRIPTION, DOMAIN_SCHEMA

            domain = Param("domain", "query", DOMAIN_SCHEMA, DOMAIN_DESCRIPTION)
            object.__setattr__(self, "params", (*self.params, domain))

    @property
    def names_a_code(self) -> bool:
        """An API route about one code (``{slug}`` in its path, behind a key)."""
        return self.scope is not None and "{slug}" in self.path

    def problem_statuses(self) -> list[int]:
        """Every error status this endpoint can answer, for the schema."""
        # 414 and 431 come from the request limits in front of every route.
        statuses = set(self.extra_problems) | {414, 431, 500}
        if self.scope is not None:
            statuses |= {401, 403}
        if self.body is not None or self.raw_body:
            statuses |= {400, 413, 415, 422}
        if any(p.where == "query" for p in self.params):
            statuses.add(422)
        return sorted(statuses)


def _wrap(endpoint: Endpoint) -> Handler:
    handler, scope, template = endpoint.handler, endpoint.scope, endpoint.path
    spans_all, names_a_code = endpoint.spans_all_codes, endpoint.names_a_code
    from scanlet.http.code_address import address_code  # see Endpoint.__post_init__

    async def run(request: Request) -> Response:
        request.scope["scanlet.route"] = template
        if scope is not None:
            principal = request.state.principal = await authorize(request, scope)
            # A code outside a tag limit is as absent as a code that never was, on every
            # route that names one; routes of no view narrowed to tags are refused.
            if spans_all:
                refuse_if_limited(principal, "this route")
            if names_a_code:
                await visible_slug(services(request), principal, address_code(request))
        return await handler(request)

    run.__name__ = getattr(handler, "__name__", "endpoint")
    return run


def build_routes(endpoints: Sequence[Endpoint]) -> list[Route]:
    """One Starlette route per path, dispatching on method to the declared handlers."""
    by_path: dict[str, dict[str, Handler]] = {}
    for endpoint in endpoints:
        methods = by_path.setdefault(endpoint.path, {})
        if endpoint.method in methods:
            raise ValueError(f"{endpoint.method} {endpoint.path} is declared twice")
        methods[endpoint.method] = _wrap(endpoint)
    routes: list[Route] = []
    for path, methods in by_path.items():
        if len(methods) == 1:
            ((method, handler),) = methods.items()
            routes.append(Route(path, handler, methods=[method]))
        else:
            routes.append(Route(path, _dispatch(methods), methods=list(methods)))
    return routes


def _dispatch(methods: dict[str, Handler]) -> Handler:
    # Starlette answers 405 itself for methods not listed on the route; HEAD maps to GET.
    async def run(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" and "HEAD" not in methods else request.method
        return await methods[method](request)

    return run
