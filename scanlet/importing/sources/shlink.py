"""Shlink's REST API v3 (``X-Api-Key``): short URLs page by page, each one's visits, then
the orphan visits (requests for short codes that did not exist).

Shlink's fields map to a code's as: ``longUrl`` target, ``shortCode`` slug, ``title``,
``tags``, ``meta.validSince``/``validUntil``/``maxVisits``, ``dateCreated``,
``forwardQuery`` ``forward_query``; redirect rules (Shlink 4) and ``deviceLongUrls`` (Shlink
3.5-3.7) ``rules``, as ``shlink_rules`` maps them, each rule that cannot come over named in
a note of its code. ``domain`` becomes part of the origin only (Scanlet serves one domain:
the same short code on two domains is a slug clash); ``crawlable`` has no Scanlet
equivalent and is dropped. Visits keep ``date``, ``userAgent``, ``referer``, the country of
``visitLocation`` and ``potentialBot``; Shlink stores no client address.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from urllib.parse import urlsplit

import msgspec

from scanlet.actors.scans.messages import ImportedScan
from scanlet.importing.items import (
    SourceCode,
    SourceFailure,
    SourceItem,
    SourceNote,
    SourceTotal,
    SourceVisit,
    visit_id,
)
from scanlet.importing.sources.shlink_rules import (
    CarriedRules,
    DeviceLongUrls,
    ShlinkRule,
    carry_device_urls,
    carry_rules,
)
from scanlet.importing.sources.web import Pages, WebSource, decode_items, without_none

__all__ = ("shlink_items",)

SHORT_URLS_PER_PAGE = 100
VISITS_PER_PAGE = 1000


class _Pagination(msgspec.Struct):
    # Field names as Shlink spells them (camelCase), here and below.
    currentPage: int
    pagesCount: int
    totalItems: int | None = None


class _Page(msgspec.Struct):
    data: list[msgspec.Raw]
    pagination: _Pagination


class _ShortUrlsAnswer(msgspec.Struct):
    shortUrls: _Page


class _VisitsAnswer(msgspec.Struct):
    visits: _Page


class _RulesAnswer(msgspec.Struct):
    redirectRules: list[ShlinkRule] = []


class _Meta(msgspec.Struct):
    validSince: datetime | None = None
    validUntil: datetime | None = None
    maxVisits: int | None = None


class _ShortUrl(msgspec.Struct):
    shortCode: str
    longUrl: str
    dateCreated: datetime | None = None
    tags: list[str] = []
    meta: _Meta = msgspec.field(default_factory=_Meta)
    domain: str | None = None
    title: str | None = None
    forwardQuery: bool | None = None
    #: Shlink 4.3 and later say whether there are rules to fetch; 4.0-4.2 do not (look).
    hasRedirectRules: bool | None = None
    #: Shlink 3.5 to 3.7 (no redirect rules then).
    deviceLongUrls: DeviceLongUrls | None = None


class _Location(msgspec.Struct):
    countryCode: str | None = None


class _Visit(msgspec.Struct):
    date: datetime
    referer: str | None = None
    userAgent: str | None = None
    visitLocation: _Location | None = None
    potentialBot: bool | None = None
    visitedUrl: str | None = None


async def _pages(
    client: WebSource, path: str, params: dict[str, str | int], per_page: int, visits: bool
) -> AsyncIterator[_Page]:
    page = 1
    guard = Pages(client.name, path)
    while True:
        query = {**params, "page": page, "itemsPerPage": per_page}
        if visits:
            found = (await client.get(path, query, _VisitsAnswer)).visits
        else:
            found = (await client.get(path, query, _ShortUrlsAnswer)).shortUrls
        guard.check(found.data)
        yield found
        if page >= found.pagination.pagesCount or not found.data:
            return
        page += 1


def _visit(
    visit: _Visit, origin: str | None, slug: str | None, seen: Counter[tuple[object, ...]]
) -> SourceVisit:
    # Shlink gives visits no id: the same visit is its time, agent and referrer, and the
    # how-many-th such visit of its code it is (identical ones keep their order).
    key = (visit.date.isoformat(), visit.userAgent, visit.referer)
    seen[key] += 1
    location = visit.visitLocation
    return SourceVisit(
        origin,
        ImportedScan(
            id=visit_id(f"{origin or 'orphan:' + str(slug)}#{key}#{seen[key]}"),
            slug=slug or "",
            occurred_at=visit.date,
            user_agent=visit.userAgent or None,
            referrer=visit.referer or None,
            country=location.countryCode if location is not None else None,
            bot=visit.potentialBot,
        ),
    )


async def _rules(client: WebSource, found: _ShortUrl, params: dict[str, str | int]) -> CarriedRules:
    """The short URL's redirect rules (or device long URLs) as Scanlet rules."""
    if found.deviceLongUrls is not None:
        return carry_device_urls(found.deviceLongUrls)
    if found.hasRedirectRules is False:
        return CarriedRules()
    path = f"/rest/v3/short-urls/{found.shortCode}/redirect-rules"
    if found.hasRedirectRules:
        return carry_rules((await client.get(path, params, _RulesAnswer)).redirectRules)
    # Not said: Shlink 4.0-4.2 have the route, older ones answer 404 (and have no rules).
    answer = await client.find(path, params, _RulesAnswer)
    return carry_rules(answer.redirectRules if answer is not None else [])


async def shlink_items(url: str, api_key: str) -> AsyncIterator[SourceItem]:
    """Every short URL with its visits, then every orphan visit, of the Shlink at ``url``."""
    client = WebSource("shlink", url, {"X-Api-Key": api_key})
    try:
        async for page in _pages(client, "/rest/v3/short-urls", {}, SHORT_URLS_PER_PAGE, False):
            if page.pagination.currentPage == 1 and page.pagination.totalItems is not None:
                yield SourceTotal(max(0, page.pagination.totalItems))
            for found in decode_items(page.data, _ShortUrl):
                if isinstance(found, str):
                    yield SourceFailure("a short URL", found)
                    continue
                origin = f"shlink:{client.host}/{found.domain or ''}/{found.shortCode}"
                params: dict[str, str | int] = {"domain": found.domain} if found.domain else {}
                rules = await _rules(client, found, params)
                yield SourceCode(
                    origin=origin,
                    label=origin,
                    created_at=found.dateCreated,
                    fields=without_none(
                        {
                            "target": found.longUrl,
                            "slug": found.shortCode,
                            "title": found.title or None,
                            "tags": found.tags,
                            "valid_from": found.meta.validSince,
                            "valid_until": found.meta.validUntil,
                            "max_scans": found.meta.maxVisits,
                            "forward_query": found.forwardQuery,
                            "rules": rules.rules or None,
                        }
                    ),
                )
                for reason in rules.dropped:
                    yield SourceNote(origin, reason)
                path = f"/rest/v3/short-urls/{found.shortCode}/visits"
                seen: Counter[tuple[object, ...]] = Counter()
                async for visits in _pages(client, path, params, VISITS_PER_PAGE, True):
                    for visit in decode_items(visits.data, _Visit):
                        if isinstance(visit, str):
                            yield SourceFailure(f"a visit of {origin}", visit)
                        else:
                            yield _visit(visit, origin, None, seen)
        orphans: Counter[tuple[object, ...]] = Counter()
        async for visits in _pages(client, "/rest/v3/visits/orphan", {}, VISITS_PER_PAGE, True):
            for visit in decode_items(visits.data, _Visit):
                if isinstance(visit, str):
                    yield SourceFailure("an orphan visit", visit)
                    continue
                path = urlsplit(visit.visitedUrl or "").path.strip("/")
                yield _visit(visit, None, path or "/", orphans)
    finally:
        await client.aclose()
