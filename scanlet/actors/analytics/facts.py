"""Derived facts: what a read model concludes from a scan's raw user agent, referrer and IP.

The ports (``AgentDescriber``, ``CountryLookup``) are declared here and implemented by the
adapters in ``scanlet.adapters`` (ua-parser and crawlerdetect, a MaxMind file), so a better
parser tomorrow means a new adapter and ``scanlet rebuild``, not a change to this context.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from functools import lru_cache
from typing import Protocol
from urllib.parse import urlsplit

import msgspec

__all__ = (
    "Agent",
    "AgentDescriber",
    "AgentPrefetch",
    "CountryLookup",
    "NoCountries",
    "normalize_country",
    "referrer_host",
)

CACHE_SIZE = 8192
_COUNTRY = re.compile(r"^[A-Z]{2}$")
# Codes proxies use for "no country": unknown (XX) and Tor exits (T1).
_NOT_COUNTRIES = frozenset({"XX", "T1"})


class Agent(msgspec.Struct, frozen=True):
    """What a user agent says: device type, OS and browser families, and bot or not."""

    device: str
    os: str
    browser: str
    bot: bool


@lru_cache(maxsize=CACHE_SIZE)
def referrer_host(referrer: str | None) -> str | None:
    """``"https://www.Example.com/a?b"`` -> ``"example.com"``; None for none or nonsense."""
    if not referrer:
        return None
    try:
        host = urlsplit(referrer.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    return host.removeprefix("www.") or None


def normalize_country(raw: str | None) -> str | None:
    """An ISO 3166 alpha-2 code from a proxy header, or None for anything else."""
    if not raw:
        return None
    code = raw.strip().upper()
    if not _COUNTRY.match(code) or code in _NOT_COUNTRIES:
        return None
    return code


class AgentDescriber(Protocol):
    """What a user agent says (the user-agent port): device, OS, browser, bot or not."""

    def __call__(self, user_agent: str | None, *, expect_agent: bool = True) -> Agent:
        """A missing or empty agent is a bot when ``expect_agent`` (a browser always sends
        one); scanner devices send none and are not bots."""
        ...


#: Describes those of a batch's agents (text, whether one is expected) not cached yet away
#: from the loop and caches the verdicts where the ``AgentDescriber`` finds them; how many.
AgentPrefetch = Callable[[Iterable[tuple[str | None, bool]]], Awaitable[int]]


class CountryLookup(Protocol):
    """Where a country comes from when the scan event carries none (the geolocation port)."""

    def country(self, ip: str) -> str | None:
        """The ISO country code of ``ip``, or None when unknown."""
        ...


class NoCountries:
    """No geolocation configured: every address is of unknown country."""

    def country(self, ip: str) -> str | None:
        """Always None."""
        return None
