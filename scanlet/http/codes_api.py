"""``/api/v1/codes``: create, list, read, change and delete codes."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.access.keys import Scope
from scanlet.actors.codes.keys import split_key
from scanlet.actors.codes.messages import CodeChanges, CreateCode, CreateCodeBody
from scanlet.actors.codes.patterns import RESERVED_SLUG_PATTERN
from scanlet.actors.codes.validation import MAX_TAG_LENGTH, SLUG_PATTERN
from scanlet.http.body import decode_body
from scanlet.http.code_address import DOMAIN_SCHEMA, query_domain
from scanlet.http.codes_bulk_api import codes_csv
from scanlet.http.endpoint import Endpoint, Link, Param, Reply
from scanlet.http.params import (
    CURSOR_SCHEMA,
    MAX_CURSOR_LENGTH,
    query_choice,
    query_int,
    query_str,
)
from scanlet.http.problems import Problem
from scanlet.http.resources import CodeList, CodeResource, code_resource, qr_links
from scanlet.http.responses import json_response
from scanlet.http.scan_path import LINK_TEMPLATE, QR_TEMPLATE
from scanlet.http.scoping import check_code_tags, check_new_code, code_limit
from scanlet.http.services import Services, services
from scanlet.storage.records import CodeRow

__all__ = ("SLUG_PARAM", "SLUG_SCHEMA", "code_endpoints", "load_code")

#: What a slug can be (``validate_slug``): a path with anything else names no code.
SLUG_SCHEMA = {
    "type": "string",
    "pattern": SLUG_PATTERN,
    "not": {"pattern": RESERVED_SLUG_PATTERN},
}
SLUG_PARAM = Param("slug", "path", SLUG_SCHEMA, "The code's slug.")
#: Longest ``q`` a code search takes.
MAX_QUERY_LENGTH = 256

_SLUG_OF_CODE = {"slug": "$response.body#/slug"}
#: The API names a code by its slug and its domain (the scan entrances by the Host header).
_CODE = {**_SLUG_OF_CODE, "domain": "$response.body#/domain"}
#: Where a new code's slug leads: the code itself, its image, figures and scans, and the
#: two scan entrances.
CODE_LINKS = tuple(
    Link(name, method, path, _CODE if path.startswith("/api/") else _SLUG_OF_CODE, description)
    for name, method, path, description in [
        ("GetCode", "GET", "/api/v1/codes/{slug}", "The code."),
        ("ChangeCode", "PATCH", "/api/v1/codes/{slug}", "Change the code."),
        ("DeleteCode", "DELETE", "/api/v1/codes/{slug}", "Delete the code."),
        ("QrImage", "GET", "/api/v1/codes/{slug}/qr", "Its QR image."),
        ("Stats", "GET", "/api/v1/codes/{slug}/stats", "Its stats."),
        ("Scans", "GET", "/api/v1/codes/{slug}/scans", "Its raw scans."),
        ("ScanByLink", "GET", LINK_TEMPLATE, "Follow its short_url."),
        ("ScanByQr", "GET", QR_TEMPLATE, "Follow its qr_payload."),
    ]
)


async def _resource(svc: Services, row: CodeRow) -> CodeResource:
    counts = await svc.storage.scans.counts_for([row.slug])
    return code_resource(row, qr_links(svc), counts.get(row.slug, 0))


def code_location(key: str) -> str:
    """The API URL of the code ``key`` (with ``?domain=`` on a domain other than the
    default)."""
    host, slug = split_key(key)
    return f"/api/v1/codes/{slug}" if host is None else f"/api/v1/codes/{slug}?domain={host}"


async def load_code(svc: Services, slug: str) -> CodeRow:
    """The live code ``slug`` (its key) or a 404 problem."""
    row = await svc.storage.codes.get(slug)
    if row is None:
        raise Problem(404, f"There is no code with slug {slug!r}.")
    return row


async def create_code(request: Request) -> Response:
    """Create a code."""
    svc = services(request)
    command = await decode_body(request, CreateCode)
    check_new_code(request.state.principal, command, svc.index.domains)
    row = await svc.codes.create(command, request.state.principal.author)
    resource = await _resource(svc, row)
    return json_response(resource, 201, {"Location": code_location(row.slug)})


async def list_codes(request: Request) -> Response:
    """List codes, newest first."""
    svc = services(request)
    limit = query_int(request, "limit", default=50, low=1, high=1000)
    tag = query_str(request, "tag", max_length=MAX_TAG_LENGTH)
    q = query_str(request, "q", max_length=MAX_QUERY_LENGTH)
    cursor = query_str(request, "cursor", max_length=MAX_CURSOR_LENGTH)
    within = code_limit(request.state.principal)
    domain = _domain_filter(request)
    if query_choice(request, "format", ("json", "csv"), "json") == "csv":
        return codes_csv(svc, tag, q, within, domain)
    page = await svc.storage.codes.page(
        limit=limit, cursor=cursor, tag=tag, q=q, domain=domain, **within.page()
    )
    counts = await svc.storage.scans.counts_for(row.slug for row in page.items)
    links = qr_links(svc)
    items = [code_resource(row, links, counts.get(row.slug, 0)) for row in page.items]
    return json_response(CodeList(items, page.next_cursor))


def _domain_filter(request: Request) -> str | None:
    """``?domain=`` of a list: None (every domain) when absent, ``""`` for the default
    domain, else the registered host."""
    if "domain" not in request.query_params:
        return None
    return query_domain(request) or ""


async def get_code(request: Request) -> Response:
    """One code."""
    svc = services(request)
    row = await load_code(svc, request.path_params["slug"])
    return json_response(await _resource(svc, row))


async def update_code(request: Request) -> Response:
    """Change a code; fields left out stay as they are."""
    svc = services(request)
    changes = await decode_body(request, CodeChanges)
    if not isinstance(changes.tags, msgspec.UnsetType):
        check_code_tags(request.state.principal, changes.tags)
    row = await svc.codes.update(
        request.path_params["slug"], changes, request.state.principal.author
    )
    return json_response(await _resource(svc, row))


async def delete_code(request: Request) -> Response:
    """Delete a code; its scans stay in the log and its slug is never reused."""
    await services(request).codes.delete(
        request.path_params["slug"], request.state.principal.author
    )
    return Response(status_code=204)


def code_endpoints() -> list[Endpoint]:
    """The codes routes."""
    one = [SLUG_PARAM]
    return [
        Endpoint(
            "POST",
            "/api/v1/codes",
            create_code,
            "Create a code",
            "codes",
            scope=Scope.WRITE,
            body=CreateCodeBody,
            extra_problems=[409, 503],
            replies=[
                Reply(201, "The new code.", CodeResource, headers=("Location",), links=CODE_LINKS)
            ],
        ),
        Endpoint(
            "GET",
            "/api/v1/codes",
            list_codes,
            "List codes",
            "codes",
            scope=Scope.READ,
            params=[
                Param(
                    "limit",
                    "query",
                    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50},
                    "Page size.",
                ),
                Param("cursor", "query", CURSOR_SCHEMA, "The previous page's next_cursor."),
                Param(
                    "tag",
                    "query",
                    {"type": "string", "maxLength": MAX_TAG_LENGTH},
                    "Only codes with this tag.",
                ),
                Param(
                    "q",
                    "query",
                    {"type": "string", "maxLength": MAX_QUERY_LENGTH},
                    "Only codes whose slug, title or target contains this text.",
                ),
                Param(
                    "domain",
                    "query",
                    DOMAIN_SCHEMA,
                    "Only the codes of this domain (the default domain's by its host).",
                ),
                Param(
                    "format",
                    "query",
                    {"type": "string", "enum": ["json", "csv"], "default": "json"},
                    "`csv` streams every matching code in the `scanlet` CSV format that "
                    "`scanlet import csv` reads (limit and cursor do not apply).",
                ),
            ],
            replies=[
                Reply(
                    200,
                    "A page of codes; with format=csv, every matching code as CSV.",
                    CodeList,
                    alternatives=("text/csv",),
                )
            ],
        ),
        Endpoint(
            "GET",
            "/api/v1/codes/{slug}",
            get_code,
            "Get a code",
            "codes",
            scope=Scope.READ,
            params=one,
            extra_problems=[404],
            replies=[Reply(200, "The code.", CodeResource)],
        ),
        Endpoint(
            "PATCH",
            "/api/v1/codes/{slug}",
            update_code,
            "Change a code",
            "codes",
            scope=Scope.WRITE,
            params=one,
            body=CodeChanges,
            extra_problems=[404, 503],
            replies=[Reply(200, "The code after the change.", CodeResource)],
        ),
        Endpoint(
            "DELETE",
            "/api/v1/codes/{slug}",
            delete_code,
            "Delete a code",
            "codes",
            scope=Scope.WRITE,
            params=one,
            extra_problems=[404, 503],
            replies=[Reply(204, "Deleted.", media_type="")],
        ),
    ]
