"""User agents described with ua-parser and crawlerdetect (the analytics user-agent port).

Results are cached per agent string in a bounded LRU cache: QR traffic repeats the same few
hundred user agents, and the parsers are the expensive part (measured here: crawlerdetect
about 300 us per agent, ua-parser 17 us with its native ``ua-parser-rs`` resolver against
510 us with the pure-Python one).
"""

from __future__ import annotations

import re
from functools import lru_cache

import ua_parser
from crawlerdetect import CrawlerDetect

from scanlet.actors.analytics.facts import CACHE_SIZE, Agent

__all__ = ("describe_agent",)

# Scripted HTTP clients that identify themselves; crawlerdetect knows most of them, this
# keeps the obvious ones certain whatever its list says.
_SCRIPTED = re.compile(
    r"^(curl|wget|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|"
    r"java/|okhttp|libwww-perl|httpie|node-fetch|axios|undici|powershell|postmanruntime)",
    re.IGNORECASE,
)
_DESKTOP_OS = frozenset(
    {"Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Debian", "Chrome OS", "FreeBSD"}
)
_crawlers = CrawlerDetect()


def _is_bot(user_agent: str) -> bool:
    return bool(_SCRIPTED.match(user_agent)) or bool(_crawlers.isCrawler(user_agent))


def _device_type(user_agent: str, os: str, device_family: str, device_brand: str) -> str:
    if device_family == "iPad" or "Tablet" in device_brand or "Tablet" in user_agent:
        return "tablet"
    if os == "Android" and "Mobile" not in user_agent:
        return "tablet"  # Android tablets drop "Mobile" from their agents by convention
    if os in ("iOS", "Android") or "Mobile" in user_agent:
        return "mobile"
    if os in _DESKTOP_OS:
        return "desktop"
    return "other"


@lru_cache(maxsize=CACHE_SIZE)
def describe_agent(user_agent: str | None, *, expect_agent: bool = True) -> Agent:
    """Classify a user agent. A missing or empty one is a bot when ``expect_agent`` (a
    browser always sends one); scanner devices send none and are not bots."""
    text = (user_agent or "").strip()
    if not text:
        return Agent("bot" if expect_agent else "other", "Other", "Other", expect_agent)
    parsed = ua_parser.parse(text)
    os = parsed.os.family if parsed.os else "Other"
    browser = parsed.user_agent.family if parsed.user_agent else "Other"
    if _is_bot(text):
        return Agent("bot", os, browser, True)
    device = parsed.device
    kind = _device_type(text, os, device.family if device else "", (device and device.brand) or "")
    return Agent(kind, os, browser, False)
