"""Shlink's REST API v3 (``X-Api-Key``): short URLs page by page, each one's visits, then
the orphan visits (requests for short codes that did not exist).

Shlink's fields map to a code's as: ``longUrl`` target, ``shortCode`` slug, ``title``,
``tags``, ``meta.validSince``/``validUntil``/``maxVisits``, ``dateCreated``. ``domain``
becomes part of the origin only (Scanlet serves one domain: the same short code on two
domains is a slug clash); ``forwardQuery`` and ``crawlable`` have no Scanlet equivalent
and are dropped. Visits keep ``date``, ``userAgent``, ``referer``, the country of
``visitLocation`` and ``potentialBot``; Shlink stores no client address.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from urllib.parse import urlsplit

import msgspec

from scanlet.actors.scans.messages import ImportedScan
from scanlet.importing.items import SourceCode, SourceFailure, SourceItem, SourceVisit, visit_id
from scanlet.importing.sources.web import Pages, WebSource, decode_items, without_none

__all__ = ("shlink_items",)

SHORT_URLS_PER_PAGE = 100
VISITS_PER_PAGE = 1000


class _Pagination(msgspec.Struct):
    # Field names as Shlink spells them (camelCase), here and below.
    currentPage: int
    pagesCount: int


class _Page(msgspec.Struct):
    data: list[msgspec.Raw]
    pagination: _Pagination


class _ShortUrlsAnswer(msgspec.Struct):
    shortUrls: _Page


class _VisitsAnswer(msgspec.Struct):
    visits: _Page


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
) -> AsyncIterator[list[msgspec.Raw]]:
    page = 1
    guard = Pages(client.name, path)
    while True:
        query = {**params, "page": page, "itemsPerPage": per_page}
        if visits:
            found = (await client.get(path, query, _VisitsAnswer)).visits
        else:
            found = (await client.get(path, query, _ShortUrlsAnswer)).shortUrls
        guard.check(found.data)
        yield found.data
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


async def shlink_items(url: str, api_key: str) -> AsyncIterator[SourceItem]:
    """Every short URL with its visits, then every orphan visit, of the Shlink at ``url``."""
    client = WebSource("shlink", url, {"X-Api-Key": api_key})
    try:
        async for page in _pages(client, "/rest/v3/short-urls", {}, SHORT_URLS_PER_PAGE, False):
            for found in decode_items(page, _ShortUrl):
                if isinstance(found, str):
                    yield SourceFailure("a short URL", found)
                    continue
                origin = f"shlink:{client.host}/{found.domain or ''}/{found.shortCode}"
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
                        }
                    ),
                )
                params: dict[str, str | int] = {"domain": found.domain} if found.domain else {}
                path = f"/rest/v3/short-urls/{found.shortCode}/visits"
                seen: Counter[tuple[object, ...]] = Counter()
                async for visits in _pages(client, path, params, VISITS_PER_PAGE, True):
                    for visit in decode_items(visits, _Visit):
                        if isinstance(visit, str):
                            yield SourceFailure(f"a visit of {origin}", visit)
                        else:
                            yield _visit(visit, origin, None, seen)
        orphans: Counter[tuple[object, ...]] = Counter()
        async for visits in _pages(client, "/rest/v3/visits/orphan", {}, VISITS_PER_PAGE, True):
            for visit in decode_items(visits, _Visit):
                if isinstance(visit, str):
                    yield SourceFailure("an orphan visit", visit)
                    continue
                path = urlsplit(visit.visitedUrl or "").path.strip("/")
                yield _visit(visit, None, path or "/", orphans)
    finally:
        await client.aclose()
