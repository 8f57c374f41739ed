"""Kutt's API v2 (``X-API-KEY``): links page by page (``limit``/``skip``).

``address`` is the slug, ``target`` the target, ``description`` the title, ``expire_in``
the end of validity, ``created_at`` the creation. Kutt keeps no visit rows its API gives
out, only each link's ``visit_count``: that total is reported, and no scan is made of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import msgspec

from scanlet.importing.items import SourceCode, SourceFailure, SourceItem, SourceTotal
from scanlet.importing.sources.web import Pages, WebSource, decode_items, without_none

__all__ = ("kutt_items",)

LINKS_PER_PAGE = 50


class _Page(msgspec.Struct):
    data: list[msgspec.Raw]
    total: int


class _Link(msgspec.Struct):
    address: str
    target: str
    description: str | None = None
    created_at: datetime | None = None
    expire_in: datetime | None = None
    visit_count: int = 0
    domain: str | None = None


async def kutt_items(url: str, api_key: str) -> AsyncIterator[SourceItem]:
    """Every link of the Kutt at ``url``, with its visit total."""
    client = WebSource("kutt", url, {"X-API-KEY": api_key})
    try:
        skip = 0
        guard = Pages(client.name, "/api/v2/links")
        while True:
            query = {"limit": LINKS_PER_PAGE, "skip": skip}
            page = await client.get("/api/v2/links", query, _Page)
            guard.check(page.data)
            if skip == 0:
                yield SourceTotal(max(0, page.total))
            for link in decode_items(page.data, _Link):
                if isinstance(link, str):
                    yield SourceFailure("a link", link)
                    continue
                origin = f"kutt:{client.host}/{link.domain or ''}/{link.address}"
                yield SourceCode(
                    origin=origin,
                    label=origin,
                    created_at=link.created_at,
                    total_visits=max(0, link.visit_count),
                    fields=without_none(
                        {
                            "target": link.target,
                            "slug": link.address,
                            "title": link.description or None,
                            "valid_until": link.expire_in,
                        }
                    ),
                )
            skip += LINKS_PER_PAGE
            if not page.data or skip >= page.total:
                return
    finally:
        await client.aclose()
