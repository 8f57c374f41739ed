"""``/api/v1/codes/{slug}/scans`` and ``/api/v1/orphan-scans``: raw scans, paged or as CSV."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from scanlet.actors.access.keys import Scope
from scanlet.actors.analytics.export import encode_batches
from scanlet.http.codes_api import SLUG_PARAM
from scanlet.http.endpoint import Endpoint, Param, Reply
from scanlet.http.params import (
    CURSOR_SCHEMA,
    FROM_SCHEMA,
    MAX_CURSOR_LENGTH,
    TO_SCHEMA,
    query_choice,
    query_int,
    query_str,
)
from scanlet.http.responses import json_response
from scanlet.http.services import Services, installed, services
from scanlet.http.stats_api import known_slug, time_range
from scanlet.storage.ports import RawScanReader
from scanlet.storage.records import RawScan, RawScanPage, RawScanQuery
from scanlet.storage.timefmt import format_time

__all__ = ("raw_scans", "scan_endpoints")


def raw_scans(svc: Services) -> RawScanReader:
    """The raw-scan store of the running analytics feature."""
    return installed(svc.raw_scans, "analytics")


async def _answer(
    request: Request, query: RawScanQuery, filename: str, *, nothing: bool = False
) -> Response:
    """The scans ``query`` asks for, as a page or CSV; with ``nothing``, none (its
    parameters are still checked)."""
    svc = services(request)
    start, end = time_range(request)
    query = RawScanQuery(
        slug=query.slug,
        orphan=query.orphan,
        start=format_time(start) if start else None,
        end=format_time(end) if end else None,
    )
    fmt = query_choice(request, "format", ("json", "csv"), "json")
    limit = query_int(request, "limit", default=50, low=1, high=1000)
    cursor = query_str(request, "cursor", max_length=MAX_CURSOR_LENGTH)
    store = raw_scans(svc)
    if fmt == "csv":
        # Streamed a batch at a time: the whole result is never held in memory.
        batches = _no_batches() if nothing else store.stream(query)
        return StreamingResponse(
            encode_batches(batches, "csv"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    if nothing:
        return json_response(RawScanPage([], None))
    return json_response(await store.page(query, limit=limit, cursor=cursor))


async def _no_batches() -> AsyncIterator[list[RawScan]]:
    return
    yield  # an async generator that yields nothing


async def code_scans(request: Request) -> Response:
    """Raw scans of one code, newest first."""
    slug = known_slug(services(request), request.path_params["slug"])
    return await _answer(request, RawScanQuery(slug=slug), f"scans-{slug}")


async def orphan_scans(request: Request) -> Response:
    """Requests for slugs that did not exist, newest first; none for a key or user limited
    to tags or domains (an orphan scan is of no code, so of none of theirs)."""
    limited = request.state.principal.limited
    return await _answer(request, RawScanQuery(orphan=True), "orphan-scans", nothing=limited)


def _params() -> list[Param]:
    return [
        Param("from", "query", FROM_SCHEMA, "Only scans at or after."),
        Param("to", "query", TO_SCHEMA, "Only scans before (after from)."),
        Param(
            "format",
            "query",
            {"type": "string", "enum": ["json", "csv"], "default": "json"},
            "`csv` streams every matching scan (limit and cursor do not apply).",
        ),
        Param(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50},
            "Page size.",
        ),
        Param("cursor", "query", CURSOR_SCHEMA, "The previous page's next_cursor."),
    ]


def scan_endpoints() -> list[Endpoint]:
    """The raw-scan routes."""
    replies = [
        Reply(
            200,
            "A page of scans, newest first; with format=csv, every matching scan as CSV.",
            RawScanPage,
            alternatives=("text/csv",),
        )
    ]
    return [
        Endpoint(
            "GET",
            "/api/v1/codes/{slug}/scans",
            code_scans,
            "Raw scans of a code",
            "analytics",
            scope=Scope.READ,
            params=[SLUG_PARAM, *_params()],
            replies=replies,
            extra_problems=[404],
        ),
        Endpoint(
            "GET",
            "/api/v1/orphan-scans",
            orphan_scans,
            "Scans of unknown slugs",
            "analytics",
            scope=Scope.READ,
            params=_params(),
            replies=replies,
            description="A key or user limited to tags or domains gets none: these scans are of"
            " no code.",
        ),
    ]
