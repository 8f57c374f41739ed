"""``/api/v1/codes/{slug}/stats`` and ``/api/v1/stats``: analytics from the rollups."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.access.keys import Scope
from scanlet.actors.analytics.buckets import INTERVALS, Interval, TooManyBuckets
from scanlet.actors.analytics.stats import (
    MAX_TOP_VALUES,
    TOP_VALUES,
    Stats,
    StatsQuery,
    compute_stats,
)
from scanlet.http.codes_api import SLUG_PARAM
from scanlet.http.endpoint import Endpoint, Param, Reply
from scanlet.http.params import (
    FROM_SCHEMA,
    TO_SCHEMA,
    QuerySource,
    invalid,
    query_bool,
    query_choice,
    query_int,
    query_time,
    query_zone,
    time_zones,
)
from scanlet.http.problems import Problem
from scanlet.http.responses import json_response
from scanlet.http.scoping import limited_codes
from scanlet.http.services import Services, services
from scanlet.storage.ports import AnalyticsReader
from scanlet.timerange import EARLIEST, time_error

__all__ = ("answer_stats", "known_slug", "stats_endpoints", "stats_query", "time_range")

DEFAULT_RANGE = timedelta(days=30)
#: How the all-codes stats answer a key or user limited to tags.
_LIMITED = (
    " For a key or user limited to tags, every code is every code with one of those tags"
    " (deleted ones too): the figures are summed over them, so a visitor of two of them"
    " counts once for each in `unique_visitors`."
)


def known_slug(svc: Services, slug: str) -> str:
    """``slug`` if it belongs (or belonged, before deletion) to a code, else a 404 problem."""
    if not svc.index.is_taken(slug):
        raise Problem(404, f"There is no code with slug {slug!r}.")
    return slug


def time_range(request: QuerySource) -> tuple[datetime | None, datetime | None]:
    """``from`` and ``to`` as given (None when absent); 422 when they are out of order or
    out of range."""
    return _checked(query_time(request, "from"), query_time(request, "to"))


def _checked(
    start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    for name, value in (("from", start), ("to", end)):
        error = None if value is None else time_error(value)
        if error is not None:
            raise invalid(name, error)
    if start is not None and end is not None and start >= end:
        raise invalid("from", "must be before to")
    return start, end


def stats_query(params: QuerySource, slug: str | None, now: datetime) -> StatsQuery:
    """What the query parameters ask for (422 problems naming the parameter): the API's
    request, or the command line's flags read into a mapping."""
    start, end = time_range(params)
    end = end or now
    if start is None:
        # 30 days up to the end, but never before the earliest time there is: a client asking
        # about early 1970 gets what there is, not a refusal of a from it never sent.
        start = max(end - DEFAULT_RANGE, EARLIEST)
    else:
        _checked(start, end)
    interval = cast(Interval, query_choice(params, "interval", INTERVALS, "day"))
    return StatsQuery(
        slug=slug,
        start=start,
        end=end,
        interval=interval,
        tz=query_zone(params),
        include_bots=query_bool(params, "include_bots", default=False),
        include_excluded=query_bool(params, "include_excluded", default=False),
        top=query_int(params, "top", default=TOP_VALUES, low=1, high=MAX_TOP_VALUES),
    )


async def answer_stats(model: AnalyticsReader, query: StatsQuery) -> Stats:
    """The stats resource for ``query``; a range of too many buckets is a 422."""
    try:
        return await compute_stats(model, query)
    except TooManyBuckets as exc:
        raise invalid("interval", str(exc)) from None


async def _answer(request: Request, slug: str | None) -> Response:
    svc = services(request)
    query = stats_query(request, slug, svc.clock.now())
    if slug is None:
        # A tag-limited key's "every code" is its own codes, summed.
        codes = await limited_codes(svc, request.state.principal)
        query = msgspec.structs.replace(query, codes=codes)
    return json_response(await answer_stats(svc.storage.analytics, query))


async def code_stats(request: Request) -> Response:
    """Stats of one code."""
    slug = known_slug(services(request), request.path_params["slug"])
    return await _answer(request, slug)


async def all_stats(request: Request) -> Response:
    """Stats across every code, with the top codes."""
    return await _answer(request, None)


def stats_params() -> list[Param]:
    """The query parameters both stats routes take."""
    return [
        Param("from", "query", FROM_SCHEMA, "Start (default: to - 30 days)."),
        Param("to", "query", TO_SCHEMA, "End, exclusive (default: now)."),
        Param(
            "interval",
            "query",
            {"type": "string", "enum": list(INTERVALS), "default": "day"},
            "Bucket size: local calendar hours, days, ISO weeks or months.",
        ),
        Param(
            "tz",
            "query",
            {"type": "string", "enum": sorted(time_zones()), "default": "UTC"},
            "IANA time zone of the buckets.",
            component="TimeZone",
        ),
        Param(
            "include_bots",
            "query",
            {"type": "boolean", "default": False},
            "Count bots in every figure (they are always counted in bots).",
        ),
        Param(
            "include_excluded",
            "query",
            {"type": "boolean", "default": False},
            "Count your own scans (SCANLET_EXCLUDE_FROM, /dashboard/exclude-me) in every "
            "figure (they are always counted in excluded).",
        ),
        Param(
            "top",
            "query",
            {"type": "integer", "minimum": 1, "maximum": MAX_TOP_VALUES, "default": TOP_VALUES},
            "Values each breakdown lists, most frequent first; the rest are summed as `other`.",
        ),
    ]


def stats_endpoints() -> list[Endpoint]:
    """The stats routes."""
    description = (
        "The range is widened to whole buckets (`from`/`to` in the answer say which); `series`"
        " has every bucket, zeros included, and adds up to `total` and `unique_visitors`."
    )
    return [
        Endpoint(
            "GET",
            "/api/v1/codes/{slug}/stats",
            code_stats,
            "Stats of a code",
            "analytics",
            scope=Scope.READ,
            params=[SLUG_PARAM, *stats_params()],
            replies=[Reply(200, "The code's stats.", Stats)],
            description=description,
            extra_problems=[404],
        ),
        Endpoint(
            "GET",
            "/api/v1/stats",
            all_stats,
            "Stats across all codes",
            "analytics",
            scope=Scope.READ,
            params=stats_params(),
            replies=[Reply(200, "Stats of every code together, with top_codes.", Stats)],
            description=description + _LIMITED,
        ),
    ]
