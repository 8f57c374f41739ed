"""``/api/v1/domains``: register, list, read, change and remove the domains codes live on.

Changes are commands to the codes actor (which owns domains: a code's domain and a domain's
removal are judged against each other there); reads come from the ``domains`` table, the
read model those commands keep.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.access.keys import Scope
from scanlet.actors.codes.domain_messages import CreateDomain, DomainChanges
from scanlet.actors.codes.domains import HOST_NAME_PATTERN, MAX_HOST_LENGTH, normal_host
from scanlet.actors.codes.errors import InvalidField
from scanlet.http.body import decode_body
from scanlet.http.endpoint import Endpoint, Link, Param, Reply
from scanlet.http.problems import FieldError, Problem
from scanlet.http.responses import json_response
from scanlet.http.services import Services, services
from scanlet.storage.records import DomainRow

__all__ = ("DomainList", "DomainResource", "domain_endpoints")


class DomainResource(msgspec.Struct, frozen=True):
    """A registered domain as the API shows it."""

    host: str
    base_url: str
    not_found_url: str | None
    root_url: str | None
    created_at: datetime
    updated_at: datetime
    codes: Annotated[int, msgspec.Meta(description="Live codes on this domain.")]


class DomainList(msgspec.Struct, frozen=True):
    """Every registered domain (a short list: never more than one page)."""

    items: list[DomainResource]
    next_cursor: str | None = None


def _resource(svc: Services, row: DomainRow) -> DomainResource:
    return DomainResource(
        host=row.host,
        base_url=row.base_url,
        not_found_url=row.not_found_url,
        root_url=row.root_url,
        created_at=row.created_at,
        updated_at=row.updated_at,
        codes=svc.index.live_on(row.host),
    )


def _host(request: Request) -> str:
    """The path's host in its stored spelling; 422 naming ``host`` when it is no host."""
    try:
        return normal_host(request.path_params["host"])
    except InvalidField as exc:
        raise Problem(
            422, f"host: {exc.msg}", errors=[FieldError(["path", "host"], exc.msg)]
        ) from None


async def create_domain(request: Request) -> Response:
    """Register a domain."""
    svc = services(request)
    command = await decode_body(request, CreateDomain)
    row = await svc.codes.create_domain(command, request.state.principal.author)
    return json_response(_resource(svc, row), 201, {"Location": f"/api/v1/domains/{row.host}"})


async def list_domains(request: Request) -> Response:
    """Every registered domain, by host."""
    svc = services(request)
    rows = await svc.storage.domains.all()
    return json_response(DomainList([_resource(svc, row) for row in rows]))


async def get_domain(request: Request) -> Response:
    """One domain."""
    svc = services(request)
    host = _host(request)
    row = await svc.storage.domains.find(host)
    if row is None:
        raise Problem(404, f"There is no domain {host!r}.")
    return json_response(_resource(svc, row))


async def update_domain(request: Request) -> Response:
    """Change a domain; fields left out stay as they are."""
    svc = services(request)
    host = _host(request)
    changes = await decode_body(request, DomainChanges)
    row = await svc.codes.update_domain(host, changes, request.state.principal.author)
    return json_response(_resource(svc, row))


async def delete_domain(request: Request) -> Response:
    """Remove a domain that has no live codes left (409 while it has)."""
    svc = services(request)
    await svc.codes.delete_domain(_host(request), request.state.principal.author)
    return Response(status_code=204)


_HOST_OF_DOMAIN = {"host": "$response.body#/host"}
#: Where a new domain leads: the domain itself, to read, change or remove.
DOMAIN_LINKS = tuple(
    Link(name, method, "/api/v1/domains/{host}", _HOST_OF_DOMAIN, description)
    for name, method, description in [
        ("GetDomain", "GET", "The domain."),
        ("ChangeDomain", "PATCH", "Change the domain."),
        ("RemoveDomain", "DELETE", "Remove the domain."),
    ]
)


def domain_endpoints() -> list[Endpoint]:
    """The domains routes (admin keys and users only, not limited to tags: a domain and
    its code counts span every code)."""
    one = [
        Param(
            "host",
            "path",
            {
                "type": "string",
                "maxLength": MAX_HOST_LENGTH,
                "pattern": HOST_NAME_PATTERN,
                "examples": ["links.example.com"],
            },
            "The domain's host.",
            required=True,
        )
    ]
    return [
        Endpoint(
            "POST",
            "/api/v1/domains",
            create_domain,
            "Register a domain",
            "domains",
            scope=Scope.ADMIN,
            spans_all_codes=True,
            body=CreateDomain,
            extra_problems=[409, 503],
            description=(
                "Codes may then live on `host` (`domain` of a code): a request is routed by "
                "its `Host` header, and a slug is unique per domain. The default domain (the "
                "host of the server's base URL) is not registered (409)."
            ),
            replies=[
                Reply(
                    201,
                    "The new domain.",
                    DomainResource,
                    headers=("Location",),
                    links=DOMAIN_LINKS,
                )
            ],
        ),
        Endpoint(
            "GET",
            "/api/v1/domains",
            list_domains,
            "List domains",
            "domains",
            scope=Scope.ADMIN,
            spans_all_codes=True,
            replies=[Reply(200, "Every registered domain.", DomainList)],
        ),
        Endpoint(
            "GET",
            "/api/v1/domains/{host}",
            get_domain,
            "Get a domain",
            "domains",
            scope=Scope.ADMIN,
            spans_all_codes=True,
            params=one,
            extra_problems=[404, 422],
            replies=[Reply(200, "The domain.", DomainResource)],
        ),
        Endpoint(
            "PATCH",
            "/api/v1/domains/{host}",
            update_domain,
            "Change a domain",
            "domains",
            scope=Scope.ADMIN,
            spans_all_codes=True,
            params=one,
            body=DomainChanges,
            extra_problems=[404, 503],
            replies=[Reply(200, "The domain after the change.", DomainResource)],
        ),
        Endpoint(
            "DELETE",
            "/api/v1/domains/{host}",
            delete_domain,
            "Remove a domain",
            "domains",
            scope=Scope.ADMIN,
            spans_all_codes=True,
            params=one,
            extra_problems=[404, 409, 422, 503],
            replies=[Reply(204, "Removed.", media_type="")],
        ),
    ]
