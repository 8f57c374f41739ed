"""Whether a user agent is a crawler: crawlerdetect's lists, searched with RE2.

crawlerdetect's verdict comes from one alternation of ~1,500 patterns that Python's
backtracking ``re`` tries at every position of the agent: 0.5 ms for an iPhone's agent here,
and more for longer ones. A live server meets few new agents, but an import brings
thousands (every visit of years of history), and the analytics projection spent most of
the server's core on this search while redirects waited (measured with py-spy during
``bench/import.py``). RE2 (google-re2) compiles the same alternation into an automaton that
reads the agent once: 3 us for the same agent, in time linear in its length.

The verdict is crawlerdetect's own: its exclusions are removed first (Python's ``re``, as
crawlerdetect does: ~50 short patterns, only tried where one of them can begin), then the
crawler patterns are searched. The few
patterns RE2 cannot run (look-arounds such as ``Yandex(?!Search)``) are searched with
Python's ``re`` beside it. Should a new crawlerdetect release bring a pattern RE2 refuses
outright, crawlerdetect itself answers, slower but the same.
"""

from __future__ import annotations

import importlib
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


#: Python's own regular-expression parser (private: untyped, and only ever a speed-up).
_parser: Any = importlib.import_module("re._parser")


def _first_characters(patterns: list[str]) -> set[str] | None:
    """Every character a match of one of ``patterns`` can begin with (case-insensitive
    matching folds them further); None when that is not a small known set: one can begin
    with any character, match the empty string, or uses a construct not analysed here.

    Read from the patterns as Python's ``re`` parses them (``re._parser``: private, so any
    surprise there means None, and the plain alternation is used)."""
    try:
        found: set[str] = set()
        for pattern in patterns:
            firsts, empty = _firsts(_parser.parse(pattern, re.IGNORECASE))
            if firsts is None or empty:
                return None
            found |= firsts
    except Exception:  # a surprise from a private parser only costs the speed-up
        return None
    return found


def _firsts(items: Any) -> tuple[set[str] | None, bool]:
    """(the characters a sequence of parsed items can begin with, or None for any; whether
    it can match the empty string)."""
    found: set[str] = set()
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            return found | {chr(arg)}, False
        if name == "IN":
            chars = _class_characters(arg)
            return (None if chars is None else found | chars), False
        if name in ("SUBPATTERN", "MAX_REPEAT", "MIN_REPEAT", "BRANCH"):
            if name == "SUBPATTERN":
                parts, optional = [arg[3]], False
            elif name == "BRANCH":
                parts, optional = arg[1], False
            else:
                parts, optional = [arg[2]], arg[0] == 0
            empty = optional
            for part in parts:
                firsts, part_empty = _firsts(part)
                if firsts is None:
                    return None, False
                found |= firsts
                empty = empty or part_empty
            if not empty:
                return found, False
            continue
        if name == "AT":  # an anchor consumes nothing: the next item begins the match
            continue
        return None, False  # ANY, a negated class, a look-around, a back-reference ...
    return found, True


def _class_characters(items: Any) -> set[str] | None:
    chars: set[str] = set()
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            chars.add(chr(arg))
        elif name == "RANGE" and arg[1] - arg[0] < 256:
            chars.update(chr(code) for code in range(arg[0], arg[1] + 1))
        else:  # a category (\d, \w), a negation, a wide range
            return None
    return chars


def _exclusions_pattern(patterns: list[str]) -> re.Pattern[str]:
    """The exclusions as one alternation, behind a look-ahead on the characters a match can
    begin with when those are known: ``re`` then tries the ~50 alternatives only where one
    can start, instead of at every position. The same matches; the whole verdict on a new
    iPhone agent took 23.5-24.7 us without it and 17.9-18.3 us with it (timeit, here)."""
    alternation = f"({'|'.join(patterns)})"
    firsts = _first_characters(patterns)
    if firsts is not None:
        charset = "".join(re.escape(char) for char in sorted(firsts))
        alternation = f"(?=[{charset}]){alternation}"
    return re.compile(alternation, re.IGNORECASE)


_exclusions = _exclusions_pattern(list(exclusion_patterns))
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
