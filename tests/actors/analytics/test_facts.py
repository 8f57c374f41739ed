"""Derived facts: user agents and bots, referrer hosts, countries (the rules and adapters)."""

from pathlib import Path

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from scanlet.actors.analytics.facts import normalize_country, referrer_host
from scanlet.adapters.geoip import MaxMindCountries
from scanlet.adapters.user_agents import describe_agent

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


def test_browsers_are_described_by_device_type_os_and_browser() -> None:
    phone = describe_agent(IPHONE)
    assert (phone.device, phone.os, phone.browser, phone.bot) == (
        "mobile",
        "iOS",
        "Mobile Safari",
        False,
    )
    assert describe_agent(IPAD).device == "tablet"
    assert describe_agent(ANDROID_TABLET).device == "tablet"
    desktop = describe_agent(WINDOWS)
    assert (desktop.device, desktop.os, desktop.browser) == ("desktop", "Windows", "Chrome")


@pytest.mark.parametrize(
    "agent",
    [
        "curl/8.4.0",
        "Wget/1.21.4",
        "python-requests/2.31.0",
        "Go-http-client/1.1",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "facebookexternalhit/1.1",
        "",
        None,
    ],
)
def test_crawlers_scripts_and_missing_agents_are_bots(agent: str | None) -> None:
    described = describe_agent(agent)
    assert described.bot
    assert described.device == "bot"


def test_a_scanner_device_without_an_agent_is_not_a_bot() -> None:
    assert not describe_agent(None, expect_agent=False).bot


@pytest.mark.parametrize(
    ("referrer", "host"),
    [
        ("https://www.Example.com/a?b=c", "example.com"),
        ("http://news.example.org:8080/x", "news.example.org"),
        ("android-app://com.google.android.gm/", "com.google.android.gm"),
        ("not a url", None),
        ("http://[::1", None),
        ("", None),
        (None, None),
    ],
)
def test_referrers_are_reduced_to_their_host(referrer: str | None, host: str | None) -> None:
    assert referrer_host(referrer) == host


@pytest.mark.parametrize(
    ("raw", "country"),
    [("de", "DE"), (" FR ", "FR"), ("XX", None), ("T1", None), ("DEU", None), ("", None)],
)
def test_proxy_country_codes_are_validated(raw: str, country: str | None) -> None:
    assert normalize_country(raw) == country


def write_geoip(path: Path) -> Path:
    """A tiny MaxMind-format country database: 203.0.113.0/24 in DE, 2001:db8::/32 in JP."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    writer.insert_network(IPSet(["203.0.113.0/24"]), {"country": {"iso_code": "DE"}})
    writer.insert_network(IPSet(["2001:db8::/32"]), {"registered_country": {"iso_code": "JP"}})
    writer.to_db_file(str(path))
    return path


def test_a_maxmind_database_gives_countries_of_anonymised_addresses(tmp_path: Path) -> None:
    countries = MaxMindCountries(write_geoip(tmp_path / "geo.mmdb"))
    try:
        assert countries.country("203.0.113.0") == "DE"
        assert countries.country("2001:db8:1::") == "JP"
        assert countries.country("198.51.100.7") is None
        assert countries.country("not-an-ip") is None
    finally:
        countries.close()
