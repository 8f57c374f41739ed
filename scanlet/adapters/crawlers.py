"""Whether a user agent is a crawler: crawlerdetect's lists, searched with RE2.

crawlerdetect's verdict comes from one alternation of ~1,500 patterns that Python's
backtracking ``re`` tries at every position of the agent: 0.5 ms for an iPhone's agent here,
and more for longer ones. A live server meets few new agents, but an import brings
thousands (every visit of years of history), and the analytics projection spent most of
the server's core on this search while redirects waited (measured with py-spy during
``bench/import.py``). RE2 (google-re2) compiles the same alternation into an automaton that
reads the agent once: 3 us for the same agent, in time linear in its length.

The verdict is crawlerdetect's own: its exclusions are removed first (Python's ``re``, as
crawlerdetect does: a few short patterns), then the crawler patterns are searched. The few
patterns RE2 cannot run (look-arounds such as ``Yandex(?!Search)``) are searched with
Python's ``re`` beside it. Should a new crawlerdetect release bring a pattern RE2 refuses
outright, crawlerdetect itself answers, slower but the same.
"""

from __future__ import annotations

import re
from typing import Any

import re2
import structlog
from crawlerdetect import CrawlerDetect
from crawlerdetect.providers.crawlers import data as crawler_patterns
from crawlerdetect.providers.exclusions import data as exclusion_patterns

__all__ = ("is_crawler",)

log = structlog.get_logger("scanlet.adapters")

#: Look-arounds: Python's ``re`` has them, RE2 does not.
_LOOK_AROUND = re.compile(r"\(\?<?[=!]")
#: RE2's memory budget for the compiled alternation (its default, 8 MiB, is too small for
#: ~1,500 patterns and would make it fall back to slower matching).
_RE2_MEMORY = 64 << 20

_exclusions = re.compile(f"({'|'.join(exclusion_patterns)})", re.IGNORECASE)
_fallback = CrawlerDetect()


def _compile() -> tuple[Any, re.Pattern[str] | None]:
    """RE2 for the patterns it runs, ``re`` for the rest (None where there are none);
    (None, None) when RE2 refuses the alternation (crawlerdetect answers then)."""
    looking = [p for p in crawler_patterns if _LOOK_AROUND.search(p)]
    plain = [p for p in crawler_patterns if p not in looking]
    options = re2.Options()
    options.case_sensitive = False
    options.max_mem = _RE2_MEMORY
    try:
        fast = re2.compile(f"(?:{'|'.join(plain)})", options)
    except re2.error as exc:
        log.warning("crawler patterns not compiled with RE2; using crawlerdetect", error=str(exc))
        return None, None
    slow = re.compile(f"(?:{'|'.join(looking)})", re.IGNORECASE) if looking else None
    return fast, slow


_fast, _slow = _compile()


def is_crawler(user_agent: str) -> bool:
    """crawlerdetect's verdict on ``user_agent`` (its ``isCrawler``)."""
    text = user_agent.strip()
    if not text:
        return False
    if _fast is None:
        return bool(_fallback.isCrawler(text))
    agent = _exclusions.sub("", text)
    if not agent:
        return False
    return _fast.search(agent) is not None or (_slow is not None and bool(_slow.search(agent)))
