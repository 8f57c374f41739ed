"""User agents described with ua-parser and crawlerdetect (the analytics user-agent port).

Verdicts are cached per agent string in a bounded LRU cache: QR traffic repeats the same few
hundred user agents, and the parsers are the expensive part (measured here: ua-parser 17 us
with its native ``ua-parser-rs`` resolver against 510 us with the pure-Python one;
crawlerdetect's patterns 3 us with RE2 against 500 us with Python's ``re``, see
``scanlet.adapters.crawlers``).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from functools import cache

import ua_parser

from scanlet.actors.analytics.facts import CACHE_SIZE, Agent
from scanlet.adapters.crawlers import is_crawler

__all__ = (
    "AGENT_CHARS",
    "AgentKey",
    "describe_agent",
    "prepare_parsers",
    "remember",
    "undescribed",
)

#: The characters of a user agent the parsers read. crawlerdetect's own search (Python's
#: ``re``, one alternation of ~1,500 patterns tried at every position) took 38 s for a 16 KiB
#: header here; with RE2 (``scanlet.adapters.crawlers``) the whole verdict takes 2.2 ms at
#: 16 KiB and 50 us at 256 characters, most of it the exclusions that still run in ``re``.
#: The prefix keeps every parser's work bounded whatever a client sends, for a routed
#: code's device or OS rule and for the analytics projection alike. Browsers' agents fit
#: (Chrome's ~130 characters; bots name themselves within the first 200); in-app browsers
#: append their own tokens past it, which no rule reads. Routing and analytics both
#: describe this prefix, so they agree.
AGENT_CHARS = 256

# Scripted HTTP clients that identify themselves; crawlerdetect knows most of them, this
# keeps the obvious ones certain whatever its list says.
_SCRIPTED = re.compile(
    r"^(curl|wget|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|"
    r"java/|okhttp|libwww-perl|httpie|node-fetch|axios|undici|powershell|postmanruntime)",
    re.IGNORECASE,
)


@cache
def _parser() -> ua_parser.Parser:
    """ua-parser's best resolver without the cache its default parser keeps in front of it.

    ``describe_agent`` caches whole verdicts, so that cache of 2,000 agents only cost every
    agent never seen (every one an import brings) a second miss and an eviction: 30 us a
    new iPhone agent with it, 24 us without (timeit, here). Built on first use, as
    ua-parser's own: its matchers take 0.15 s, which no command that never parses should
    pay at start-up."""
    return ua_parser.Parser(ua_parser.BestAvailableResolver(ua_parser.load_lazy_builtins()))


_DESKTOP_OS = frozenset(
    {"Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Debian", "Chrome OS", "FreeBSD"}
)


def _is_bot(user_agent: str) -> bool:
    return bool(_SCRIPTED.match(user_agent)) or is_crawler(user_agent)


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


#: An agent as the parsers read it (cut to ``AGENT_CHARS``) and whether one was expected.
AgentKey = tuple[str, bool]

# Keyed by the cut text: a hostile agent's megabyte never sits in the cache. Kept in use
# order (a hit moves its key to the end, the first key is the least recently used) rather
# than in ``functools.lru_cache``, which cannot say whether it holds a key or take a
# verdict worked out elsewhere (``remember``). An OrderedDict, not a dict: taking a dict's
# first key walks over the slots of every key deleted before it, and while an import
# brought a new agent a scan (each one evicting), that walk made an eviction cost about 4
# us against 0.5 (10k entries, timeit here), and py-spy found the loop in ``remember``
# for 3 % of a Shlink import into a running server (a batch's verdicts took up to 3.9 ms).
_verdicts: OrderedDict[AgentKey, Agent] = OrderedDict()


def _key(user_agent: str | None, expect_agent: bool) -> AgentKey:
    return ((user_agent or "")[:AGENT_CHARS], expect_agent)


def describe_agent(user_agent: str | None, *, expect_agent: bool = True) -> Agent:
    """Classify a user agent by its first ``AGENT_CHARS`` characters. A missing or empty one
    is a bot when ``expect_agent`` (a browser always sends one); scanner devices send none
    and are not bots."""
    key = _key(user_agent, expect_agent)
    found = _verdicts.get(key)
    if found is None:
        found = _describe(*key)
        _cache(key, found)
    else:
        _verdicts.move_to_end(key)
    return found


def _cache(key: AgentKey, verdict: Agent) -> None:
    """Keep ``verdict`` as the most recently used, evicting the least recently used one when
    the cache is full."""
    if key in _verdicts:
        _verdicts.move_to_end(key)
    elif len(_verdicts) >= CACHE_SIZE:
        _verdicts.popitem(last=False)
    _verdicts[key] = verdict


def undescribed(agents: Iterable[tuple[str | None, bool]]) -> list[AgentKey]:
    """The distinct agents among ``agents`` (text, expected) whose verdicts are not cached,
    as ``describe_agent`` keys them."""
    missing = {_key(agent, expect) for agent, expect in agents}
    return [key for key in missing if key not in _verdicts]


def remember(key: AgentKey, verdict: Agent) -> None:
    """Cache a verdict ``describe_agent`` would give for ``key``, worked out elsewhere (the
    agent worker process, ``scanlet.adapters.agent_worker``)."""
    _cache(key, verdict)


def prepare_parsers() -> None:
    """Build the parsers now rather than on the first agent described: ua-parser's
    matchers take about 0.1 s to build, all of it holding the GIL (a thread would not
    help), and on a server's first scan that was a 105 ms stall of the event loop."""
    _describe("Mozilla/5.0", True)


def _describe(user_agent: str, expect_agent: bool) -> Agent:
    # A lone surrogate (no request header or stored event carries one, but a str may) has
    # no UTF-8, and ua-parser's native resolver raised on it: parse it as the U+FFFD it is.
    text = user_agent.strip().encode("utf-8", "replace").decode("utf-8")
    if not text:
        return Agent("bot" if expect_agent else "other", "Other", "Other", expect_agent)
    parsed = _parser().parse(text)
    os = parsed.os.family if parsed.os else "Other"
    browser = parsed.user_agent.family if parsed.user_agent else "Other"
    if _is_bot(text):
        return Agent("bot", os, browser, True)
    device = parsed.device
    kind = _device_type(text, os, device.family if device else "", (device and device.brand) or "")
    return Agent(kind, os, browser, False)
