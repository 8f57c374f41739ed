"""User agents are described by their first AGENT_CHARS characters: a hostile header's
length cannot turn into seconds of regex work on the event loop."""

import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pytest
import ua_parser

from scanlet.actors.analytics.facts import Agent
from scanlet.adapters import user_agents
from scanlet.adapters.user_agents import AGENT_CHARS, _parser, describe_agent

IPAD = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
FACEBOOK_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
    " Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.37.109;FBBV/624498580;FBDV/iPhone14,5;"
    "FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/626167383;"
    "FBCR/Vodafone;FBDM/{density=3.0,width=1170,height=2532}]"
)
GOOGLEBOT_PHONE = (
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML,"
    " like Gecko) Chrome/126.0.6478.126 Mobile Safari/537.36 (compatible; Googlebot/2.1;"
    " +http://www.google.com/bot.html)"
)


def test_a_huge_agent_is_described_by_its_prefix() -> None:
    # 64 KiB: crawlerdetect alone would search it for minutes (38 s at 16 KiB here).
    huge = IPAD + "x" * 65_536
    described = describe_agent(huge)
    assert described == describe_agent(huge[:AGENT_CHARS])
    assert (described.device, described.os, described.bot) == ("tablet", "iOS", False)


def test_real_long_agents_keep_their_meaning() -> None:
    assert len(FACEBOOK_IOS) > AGENT_CHARS
    in_app = describe_agent(FACEBOOK_IOS)
    assert (in_app.device, in_app.os, in_app.bot) == ("mobile", "iOS", False)
    crawler = describe_agent(GOOGLEBOT_PHONE)
    assert crawler.bot
    assert crawler.device == "bot"


def test_missing_agents_keep_their_rule() -> None:
    assert describe_agent(None).bot
    assert not describe_agent("", expect_agent=False).bot


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/124.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "Mozilla/5.0 (bench 17-42)",
    ],
)
def test_the_uncached_parser_reads_agents_as_ua_parsers_default_does(agent: str) -> None:
    assert _parser().parse(agent) == ua_parser.parse(agent)


def test_a_server_builds_the_parsers_before_its_first_request(tmp_path: Path) -> None:
    # In a process of its own: this one's parsers may be built already by other tests.
    script = f"""
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient
from scanlet.adapters.user_agents import _parser
from scanlet.assembly import create_app
from scanlet.config import load_settings

settings = load_settings({{"SCANLET_DB": {str(tmp_path / "s.db")!r}}}, isatty=False)
app = create_app(settings, registry=CollectorRegistry(), features=[])
assert _parser.cache_info().currsize == 0
with TestClient(app):
    print("built", _parser.cache_info().currsize)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "built 1" in done.stdout


def test_the_verdict_cache_evicts_the_least_recently_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(user_agents, "CACHE_SIZE", 3)
    monkeypatch.setattr(user_agents, "_verdicts", OrderedDict())
    for n in range(3):
        describe_agent(f"Mozilla/5.0 (cache {n})")
    describe_agent("Mozilla/5.0 (cache 0)")  # a hit: now the most recently used
    worked_out = Agent("mobile", "iOS", "Mobile Safari", False)
    user_agents.remember(("Mozilla/5.0 (cache 3)", True), worked_out)
    assert list(user_agents._verdicts) == [
        ("Mozilla/5.0 (cache 2)", True),
        ("Mozilla/5.0 (cache 0)", True),
        ("Mozilla/5.0 (cache 3)", True),
    ]
    # A remembered verdict is what describing the agent answers, without parsing it.
    assert describe_agent("Mozilla/5.0 (cache 3)") is worked_out
    describe_agent("Mozilla/5.0 (cache 4)")
    assert ("Mozilla/5.0 (cache 2)", True) not in user_agents._verdicts
    assert len(user_agents._verdicts) == 3
