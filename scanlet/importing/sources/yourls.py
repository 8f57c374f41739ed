"""YOURLS through the actions of the ``yourls-shlink-import`` plugin (the ones Shlink's own
importer uses): YOURLS's API has no action that lists every link or its clicks.

``shlink-list`` answers every link (``keyword``, ``url``, ``title``, ``timestamp``);
``shlink-link-visits`` a link's clicks (``click_time``, ``referrer`` with ``direct`` for
none, ``user_agent``, ``ip_address``, ``country_code``). YOURLS stores times in its
server's local time without a zone (``--timezone``) and full client addresses: they are
anonymised on the way in exactly as live scans' are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from scanlet.actors.scans.messages import ImportedScan
from scanlet.importing.items import (
    SourceCode,
    SourceError,
    SourceFailure,
    SourceItem,
    SourceTotal,
    SourceVisit,
    visit_id,
)
from scanlet.importing.sources.web import WebSource, decode_items, without_none

__all__ = ("yourls_items",)

_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class _Answer(msgspec.Struct):
    result: list[msgspec.Raw] = []
    message: str | None = None


class _Link(msgspec.Struct):
    keyword: str
    url: str
    title: str | None = None
    timestamp: str | None = None


class _Click(msgspec.Struct):
    click_time: str
    referrer: str | None = None
    user_agent: str | None = None
    ip_address: str | None = None
    country_code: str | None = None


def _time(text: str, zone: ZoneInfo) -> datetime:
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=zone)


async def yourls_items(
    url: str, credentials: dict[str, str], zone: ZoneInfo
) -> AsyncIterator[SourceItem]:
    """Every link of the YOURLS at ``url`` with its clicks; ``credentials`` are
    ``signature`` or ``username`` and ``password``."""
    client = WebSource("yourls", url, {})

    async def call(action: str, **extra: str) -> list[msgspec.Raw]:
        query = {"format": "json", "action": action, **credentials, **extra}
        try:
            return (await client.get("/yourls-api.php", query, _Answer)).result
        except SourceError as exc:
            if "answered 400" in str(exc):
                raise SourceError(
                    f"{exc}: is the yourls-shlink-import plugin installed and active?"
                ) from None
            raise

    try:
        links = await call("shlink-list")
        yield SourceTotal(len(links))
        for link in decode_items(links, _Link):
            if isinstance(link, str):
                yield SourceFailure("a link", link)
                continue
            origin = f"yourls:{client.host}/{link.keyword}"
            try:
                created = _time(link.timestamp, zone) if link.timestamp else None
            except ValueError:
                yield SourceFailure(origin, f"timestamp is not a time: {link.timestamp!r}")
                continue
            yield SourceCode(
                origin=origin,
                label=origin,
                created_at=created,
                fields=without_none(
                    {"target": link.url, "slug": link.keyword, "title": link.title or None}
                ),
            )
            seen: Counter[tuple[object, ...]] = Counter()
            for click in decode_items(
                await call("shlink-link-visits", shortCode=link.keyword), _Click
            ):
                if isinstance(click, str):
                    yield SourceFailure(f"a click of {origin}", click)
                    continue
                try:
                    at = _time(click.click_time, zone)
                except ValueError:
                    yield SourceFailure(f"a click of {origin}", f"bad time {click.click_time!r}")
                    continue
                # No click id in the plugin's answer: a click is its time, address, agent
                # and referrer, and how many identical ones came before it.
                key = (click.click_time, click.ip_address, click.user_agent, click.referrer)
                seen[key] += 1
                referrer = click.referrer if click.referrer not in (None, "", "direct") else None
                yield SourceVisit(
                    origin,
                    ImportedScan(
                        id=visit_id(f"{origin}#{key}#{seen[key]}"),
                        slug="",
                        occurred_at=at,
                        ip=click.ip_address or None,
                        user_agent=click.user_agent or None,
                        referrer=referrer,
                        country=click.country_code or None,
                    ),
                )
    finally:
        await client.aclose()
