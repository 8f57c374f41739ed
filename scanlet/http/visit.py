"""A scan request as the routing decision sees it (``scanlet.actors.codes.decide.Visit``).

Built only for codes that have routing, and lazy: a rule on the device parses the user
agent, a rule on the country looks the address up, and nothing else is worked out. Device,
OS and country come from the same ports and functions analytics uses, so a rule for
``mobile`` matches exactly the scans the stats count as ``mobile``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import parse_qsl

from scanlet.actors.analytics.facts import AgentDescriber, CountryLookup, normalize_country
from scanlet.actors.scans.privacy import anonymize_ip

__all__ = (
    "MAX_LANGUAGES",
    "MAX_QUERY_PARAMS",
    "SPLIT_KEY_PURPOSE",
    "RequestVisit",
    "VisitContext",
    "os_of",
)

#: The server key's purpose label for the key of the split's sticky hash.
SPLIT_KEY_PURPOSE = "routing-split"

#: Accept-Language entries read (browsers send a handful; a hostile header, thousands).
MAX_LANGUAGES = 20
#: Query parameters read from a scan's URL (the URL length limit bounds them too).
MAX_QUERY_PARAMS = 100

_OS = {"iOS": "ios", "iPadOS": "ios", "Android": "android", "Mac OS X": "macos"}
_LINUX = frozenset({"Linux", "Ubuntu", "Fedora", "Debian", "Arch Linux", "Linux Mint"})


def os_of(family: str) -> str:
    """ua-parser's OS family as a rule names it: ``Mac OS X`` -> ``macos``."""
    found = _OS.get(family)
    if found is not None:
        return found
    if family.startswith("Windows"):
        return "windows"
    return "linux" if family in _LINUX else "other"


def _languages(header: str | None) -> list[str]:
    """Accept-Language's tags in q order (stable for equal q), q=0 and ``*`` left out."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:MAX_LANGUAGES]):
        tag, _, params = item.partition(";")
        tag = tag.strip().lower()
        if not tag or tag == "*":
            continue
        quality = 1.0
        params = params.strip()
        if params:
            name, _, value = params.partition("=")
            if name.strip().lower() != "q":
                continue
            try:
                quality = float(value.strip())
            except ValueError:
                continue
            if not 0.0 < quality <= 1.0:
                continue
        weighted.append((-quality, position, tag))
    weighted.sort()
    return [tag for _, _, tag in weighted]


class VisitContext:
    """What every visit shares: the parsers, the geolocation and the split's hash key."""

    __slots__ = ("agents", "countries", "split_key")

    def __init__(self, agents: AgentDescriber, countries: CountryLookup, split_key: bytes) -> None:
        self.agents = agents
        self.countries = countries
        self.split_key = split_key


class RequestVisit:
    """One scan request's facts, each worked out on first use."""

    __slots__ = (
        "_context",
        "_query",
        "_raw_query",
        "address",
        "at",
        "country_header",
        "header_languages",
        "user_agent",
    )

    def __init__(
        self,
        context: VisitContext,
        at: datetime,
        address: str,
        user_agent: str | None,
        country_header: str | None,
        languages: str | None,
        raw_query: bytes,
    ) -> None:
        self._context = context
        self.at = at
        self.address = address
        self.user_agent = user_agent
        self.country_header = country_header
        self.header_languages = languages
        self._raw_query = raw_query
        self._query: frozenset[tuple[str, str]] | None = None

    def device(self) -> str:
        """The device type analytics gives this user agent."""
        return self._context.agents(self.user_agent).device

    def os(self) -> str:
        """The OS analytics gives this user agent, as a rule names it."""
        return os_of(self._context.agents(self.user_agent).os)

    def languages(self) -> Sequence[str]:
        """Accept-Language's tags, most preferred first."""
        return _languages(self.header_languages)

    def country(self) -> str | None:
        """A trusted proxy's country, else the stored (anonymised) address's, as analytics
        resolves it."""
        found = normalize_country(self.country_header)
        if found is None and self.address:
            ip = anonymize_ip(self.address)
            found = self._context.countries.country(ip) if ip else None
        return found

    def inputs(
        self, agent: bool, language: bool, query: bool, country: bool, limit: int
    ) -> tuple[object, ...] | None:
        """The raw values behind the facts asked for (None for those not asked), or None
        when they are longer than ``limit`` characters in all."""
        user_agent = self.user_agent if agent else None
        languages = self.header_languages if language else None
        raw_query = self._raw_query if query else None
        size = len(user_agent or "") + len(languages or "") + len(raw_query or b"")
        if country:
            place = (self.country_header, self.address)
            size += len(self.country_header or "") + len(self.address)
        else:
            place = None
        return None if size > limit else (user_agent, languages, raw_query, place)

    def query(self) -> frozenset[tuple[str, str]]:
        """The URL's query parameters, decoded, as a set of (name, value) pairs (a rule's
        pairs are looked up in it, each in one step)."""
        if self._query is None:
            text = self._raw_query.decode("latin-1")
            self._query = frozenset(parse_qsl(text, keep_blank_values=True)[:MAX_QUERY_PARAMS])
        return self._query

    def query_string(self) -> bytes:
        """The URL's query string as sent."""
        return self._raw_query

    def sticky(self, slug: str) -> int:
        """A keyed hash of the visitor (address and user agent, as the visitor hash), the
        UTC day and the code: the same arm all day, another draw tomorrow, and nobody
        without the server key can tell which visitor got which."""
        digest = hashlib.blake2b(key=self._context.split_key, digest_size=8)
        text = f"{self.at.date().isoformat()}\0{slug}\0{self.address}\0{self.user_agent or ''}"
        digest.update(text.encode("utf-8", "surrogatepass"))
        return int.from_bytes(digest.digest(), "big")
