"""The RE2 crawler check gives crawlerdetect's own verdict: on every pattern of its list, on
real agents, on agents made of their pieces, and when RE2 cannot be used at all."""

from __future__ import annotations

import re

import pytest
import re2
from crawlerdetect import CrawlerDetect
from crawlerdetect.providers.crawlers import data as crawler_patterns
from crawlerdetect.providers.exclusions import data as exclusion_patterns
from hypothesis import given, settings
from hypothesis import strategies as st

from scanlet.adapters import crawlers
from scanlet.adapters.crawlers import is_crawler

_reference = CrawlerDetect()
BROWSER = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari"
#: Patterns that are plain text (a regex dot matches itself): each, as a token of an agent.
_LITERAL = [p for p in crawler_patterns if re.fullmatch(r"[A-Za-z0-9 _/.-]+", p)]

AGENTS = [
    BROWSER,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/17.5 Safari",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 [FBAN/FBIOS;FBAV/470]",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    # The one look-around of the list: Yandex, but not YandexSearch.
    "Mozilla/5.0 (Linux; Android 13) Chrome/126.0 YaBrowser/24.6 YandexSearch/24.1 Mobile",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "WhatsApp/2.23.20.0",
    "Twitterbot/1.0",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Mozilla",
    "   ",
]


def test_every_plain_pattern_of_the_list_gets_crawlerdetect_s_verdict() -> None:
    assert len(_LITERAL) > 500  # the list is the library's, not a handful
    for pattern in _LITERAL:
        agent = f"{BROWSER} ({pattern}/1.0)"
        assert is_crawler(agent) == _reference.isCrawler(agent), pattern


@pytest.mark.parametrize("agent", AGENTS)
def test_real_agents_get_crawlerdetect_s_verdict(agent: str) -> None:
    assert is_crawler(agent) == _reference.isCrawler(agent)


def test_both_kinds_of_agent_are_among_them() -> None:
    verdicts = {is_crawler(agent) for agent in AGENTS}
    assert verdicts == {True, False}
    assert crawlers._slow is not None  # the look-around is searched, not dropped


_PIECES = st.sampled_from(
    [*crawler_patterns[::7], *exclusion_patterns, "Mozilla/5.0", "Yandex", "Search", " ", "/"]
)
_TOKENS = st.one_of(
    _PIECES.map(lambda p: re.sub(r"[\\()\[\]?*+|^$]", "", p)),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TOKENS, max_size=8).map("".join))
def test_agents_made_of_the_lists_pieces_get_crawlerdetect_s_verdict(agent: str) -> None:
    assert is_crawler(agent) == _reference.isCrawler(agent)


def test_when_re2_refuses_the_patterns_crawlerdetect_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(pattern: str, options: object = None) -> object:
        raise re2.error("pattern too large")

    monkeypatch.setattr(re2, "compile", refuse)
    assert crawlers._compile() == (None, None)
    monkeypatch.setattr(crawlers, "_fast", None)
    monkeypatch.setattr(crawlers, "_slow", None)
    for agent in AGENTS:
        assert is_crawler(agent) == _reference.isCrawler(agent), agent


_PLAIN_EXCLUSIONS = re.compile(f"({'|'.join(exclusion_patterns)})", re.IGNORECASE)
#: Characters whose case folding is special (the Kelvin sign, the long s, dotted I ...).
_FOLDING = st.sampled_from(["\u212a", "\u017f", "\u0130", "\u0131", "K", "k", "S", "s", "I", "i"])


def test_the_exclusions_are_searched_behind_a_look_ahead_on_their_first_characters() -> None:
    assert crawlers._exclusions.pattern.startswith("(?=["), "the speed-up is in place"
    firsts = crawlers._first_characters(list(exclusion_patterns))
    assert firsts is not None
    assert {"S", "F", " ", "M", "l", "G"} <= firsts  # Safari, Firefox, " Chrome", (like )?Gecko


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (["abc", "x?yz"], {"a", "x", "y"}),
        (["(like )?Gecko", "[ ]Intel"], {"l", "G", " "}),
        (["^Opera", "(?:Win|Mac)"], {"O", "W", "M"}),
        (["[a-c]d"], {"a", "b", "c"}),
        ([".NET"], None),  # any character
        (["a?"], None),  # the empty string
        ([r"\d+x"], None),  # a category
        (["(?=a)b"], None),  # a look-ahead
        (["[^a]b"], None),  # a negated class
    ],
)
def test_first_characters_are_known_only_when_a_small_set_covers_them(
    patterns: list[str], expected: set[str] | None
) -> None:
    assert crawlers._first_characters(patterns) == expected


@pytest.mark.parametrize("agent", AGENTS)
def test_real_agents_lose_the_same_exclusions_with_the_look_ahead(agent: str) -> None:
    assert crawlers._exclusions.sub("", agent) == _PLAIN_EXCLUSIONS.sub("", agent)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(_TOKENS, _FOLDING), max_size=10).map("".join))
def test_made_up_agents_lose_the_same_exclusions_with_the_look_ahead(agent: str) -> None:
    assert crawlers._exclusions.sub("", agent) == _PLAIN_EXCLUSIONS.sub("", agent)
