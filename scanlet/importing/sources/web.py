"""What the web sources (Shlink, YOURLS, Kutt) share: one HTTP client, JSON pages decoded
item by item, errors as one line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import msgspec

from scanlet.importing.items import SourceError

__all__ = (
    "MAX_ANSWER",
    "TIMEOUT",
    "Pages",
    "WebSource",
    "decode_items",
    "source_host",
    "without_none",
)

T = TypeVar("T")
#: Seconds for each request to a source (a page of visits can be slow to build).
TIMEOUT = 60.0
#: The largest answer read (a page of 1000 visits is a few hundred kilobytes; YOURLS lists
#: a link's every click in one answer): a source cannot make the import hold more.
MAX_ANSWER = 64 * 1024 * 1024


def source_host(url: str) -> str:
    """The host (and port) of a source's URL: part of every origin, so that two servers'
    ``abc`` are two items. Refuses what is not an http(s) URL with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"--url must be an http:// or https:// URL, got {url!r}")
    return parts.netloc.rsplit("@", 1)[-1].lower()


class WebSource:
    """An HTTP client for one source; ``get`` returns decoded JSON or raises SourceError."""

    def __init__(self, name: str, base_url: str, headers: Mapping[str, str]) -> None:
        self.name = name
        self.host = source_host(base_url)
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Accept": "application/json", **headers},
            timeout=TIMEOUT,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, path: str, params: Mapping[str, str | int], shape: type[T]) -> T:
        found = await self._get(path, params, shape, missing_ok=False)
        assert found is not None
        return found

    async def find(self, path: str, params: Mapping[str, str | int], shape: type[T]) -> T | None:
        """As ``get``, but None when the source answers 404 (a route an older version of
        it does not have)."""
        return await self._get(path, params, shape, missing_ok=True)

    async def _get(
        self, path: str, params: Mapping[str, str | int], shape: type[T], *, missing_ok: bool
    ) -> T | None:
        try:
            async with self._client.stream("GET", path, params=dict(params)) as response:
                if response.status_code == 404 and missing_ok:
                    return None
                if response.status_code != 200:
                    hint = " (is the key right?)" if response.status_code in (401, 403) else ""
                    raise SourceError(
                        f"{self.name} answered {response.status_code} to {path}{hint}"
                    )
                content = bytearray()
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > MAX_ANSWER:
                        raise SourceError(
                            f"{self.name}: {path}: an answer larger than {MAX_ANSWER} bytes"
                        )
        except httpx.HTTPError as exc:
            raise SourceError(f"{self.name}: {path}: {exc or type(exc).__name__}") from None
        try:
            return msgspec.json.decode(content, type=shape)
        except msgspec.DecodeError as exc:
            raise SourceError(f"{self.name}: {path}: unexpected answer ({exc})") from None


class Pages:
    """Guards a paginated listing against a source that answers the same page again and
    again (a broken paginator would otherwise keep an import going for ever)."""

    def __init__(self, name: str, path: str) -> None:
        self._where = f"{name}: {path}"
        self._last: list[bytes] | None = None

    def check(self, items: list[msgspec.Raw]) -> None:
        """Raise SourceError when ``items`` is the previous page over again."""
        page = [bytes(item) for item in items]
        if page and page == self._last:
            raise SourceError(f"{self._where}: the same page came twice; stopping")
        self._last = page


def decode_items(raw: list[msgspec.Raw], shape: type[T]) -> list[T | str]:
    """Each item of a page as ``shape``, or the reason it is not one (the page goes on)."""
    found: list[T | str] = []
    for item in raw:
        try:
            found.append(msgspec.json.decode(item, type=shape))
        except msgspec.DecodeError as exc:
            found.append(str(exc))
    return found


def without_none(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a source filled (a missing one takes the API's default)."""
    return {name: value for name, value in fields.items() if value is not None}
