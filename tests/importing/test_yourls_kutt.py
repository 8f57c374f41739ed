"""``scanlet import yourls`` (through the yourls-shlink-import plugin) and ``kutt``."""

from __future__ import annotations

import anyio
import pytest

from scanlet.cli import main
from scanlet.storage.opening import open_storage
from tests.importing.fakes import Answer, FakeKutt, FakeYourls, serving
from tests.importing.server import ApiReader

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"


def _click(ip: str, at: str = "2019-06-02 10:00:00", referrer: str = "direct") -> dict[str, str]:
    return {
        "click_time": at,
        "referrer": referrer,
        "user_agent": PHONE,
        "ip_address": ip,
        "country_code": "FR",
    }


async def _payloads(api: ApiReader) -> bytes:
    async with open_storage(api.settings, create=False) as storage:
        return b"\n".join(e.payload for e in await storage.events.read_after(0, 10_000))


def test_yourls_links_and_clicks_come_over_with_addresses_anonymised_as_live_scans(
    scanlet_db: str, api: ApiReader, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeYourls()
    fake.add(
        "ylink",
        "https://example.com/y",
        [
            _click("203.0.113.77"),
            _click("203.0.113.77", at="2019-06-02 10:05:00", referrer="https://t.co/x"),
            _click("2001:db8:abcd:12::9"),
            _click("198.51.100.4", at="2019-06-03 09:00:00"),
        ],
    )
    with serving(fake) as url:
        args = ["import", "yourls", "--url", url, "--signature", "sig", "--db", scanlet_db]
        assert main([*args, "--timezone", "Europe/Paris"]) == 0
        assert "codes: 1 created; visits: 4 imported" in capsys.readouterr().out
        assert main([*args, "--timezone", "Europe/Paris"]) == 0
        assert "4 already imported" in capsys.readouterr().out
        login = ["import", "yourls", "--url", url, "--username", "admin", "--password", "pw"]
        assert main([*login, "--db", scanlet_db]) == 0
        assert "codes: 1 kept" in capsys.readouterr().out

    code = api.get("/api/v1/codes/ylink")
    assert (code["title"], code["scans"]) == ("Title of ylink", 4)
    assert code["created_at"] == "2019-06-01T10:00:00Z"  # 12:00 in Paris, summer time
    scans = api.get("/api/v1/codes/ylink/scans")["items"]
    assert sorted(s["ip"] for s in scans) == [
        "198.51.100.0",
        "2001:db8:abcd::",
        "203.0.113.0",
        "203.0.113.0",
    ]
    assert {s["country"] for s in scans} == {"FR"}
    assert sorted(str(s["referrer"]) for s in scans) == ["None", "None", "None", "https://t.co/x"]
    # The same address and agent on one day is one visitor, as for live scans.
    stats = api.get("/api/v1/codes/ylink/stats?from=2019-06-01T00:00:00Z&to=2019-06-05T00:00:00Z")
    assert (stats["total"], stats["unique_visitors"]) == (4, 3)
    payloads = anyio.run(_payloads, api)
    assert b"203.0.113.77" not in payloads
    assert b"2001:db8:abcd:12::9" not in payloads


def test_every_imported_days_visitors_count_whichever_code_brought_them_first(
    scanlet_db: str, api: ApiReader, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two links, each clicked on ten days by a visitor of its own and one of both: the
    # second link's days are long behind the newest day the first one brought.
    fake = FakeYourls()
    for name in ("first", "second"):
        fake.add(
            name,
            f"https://example.com/{name}",
            [
                _click(ip, at=f"2019-06-{day:02} 10:00:00")
                for day in range(1, 11)
                for ip in ("203.0.113.1", "198.51.100.2" if name == "first" else "192.0.2.3")
            ],
        )
    with serving(fake) as url:
        args = ["import", "yourls", "--url", url, "--signature", "sig", "--db", scanlet_db]
        assert main(args) == 0
        assert "visits: 40 imported" in capsys.readouterr().out
    window = "from=2019-06-01T00:00:00Z&to=2019-06-11T00:00:00Z"
    for name in ("first", "second"):
        stats = api.get(f"/api/v1/codes/{name}/stats?{window}")
        assert (stats["total"], stats["unique_visitors"]) == (20, 20)
    every = api.get(f"/api/v1/stats?{window}")
    assert (every["total"], every["unique_visitors"]) == (40, 30)


def test_yourls_without_the_plugin_or_the_right_token_says_so(
    scanlet_db: str, api: ApiReader, capsys: pytest.CaptureFixture[str]
) -> None:
    with serving(FakeYourls(plugin=False)) as url:
        args = ["import", "yourls", "--url", url, "--signature", "sig", "--db", scanlet_db]
        assert main(args) == 1
        assert "yourls-shlink-import plugin installed" in capsys.readouterr().err
        assert main([*args[:-4], "--signature", "wrong", "--db", scanlet_db]) == 1
        assert "answered 403" in capsys.readouterr().err
    assert main(["import", "yourls", "--url", "http://y.test", "--db", scanlet_db]) == 1
    assert "give --signature, or --username and --password" in capsys.readouterr().err
    bad_zone = ["import", "yourls", "--url", "http://y.test", "--signature", "s"]
    assert main([*bad_zone, "--timezone", "Mars/Base", "--db", scanlet_db]) == 1
    assert "unknown time zone" in capsys.readouterr().err


def test_kutt_links_come_over_page_by_page_with_totals_reported_not_invented(
    scanlet_db: str, api: ApiReader, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeKutt()
    for n in range(60):
        fake.add(f"k{n}", f"https://example.com/{n}", visits=n)
    fake.links[0]["description"] = "First"
    fake.links[0]["expire_in"] = "2031-01-01T00:00:00.000Z"
    with serving(fake) as url:
        args = ["import", "kutt", "--url", url, "--api-key", "kutt-key", "--db", scanlet_db]
        assert main(args) == 0
    out = capsys.readouterr().out
    assert "codes: 60 created; visits: 0 imported; 1770 counted by the source" in out
    first = api.get("/api/v1/codes/k0")
    assert (first["title"], first["valid_until"]) == ("First", "2031-01-01T00:00:00Z")
    assert first["created_at"] == "2022-02-02T02:02:02Z"
    assert api.get("/api/v1/codes/k59")["scans"] == 0


def test_a_source_that_answers_the_same_page_for_ever_is_stopped(
    scanlet_db: str, api: ApiReader, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeKutt()
    fake.add("stuck", "https://example.com/", visits=0)

    def stuck(path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        status, body = fake(path, {**query, "skip": "0"}, headers)
        return status, {**body, "total": 10**9}

    with serving(stuck) as url:
        args = ["import", "kutt", "--url", url, "--api-key", "kutt-key", "--db", scanlet_db]
        assert main(args) == 1
    out, err = capsys.readouterr()
    assert "the same page came twice; stopping" in err
    assert "codes: 1 created" in out
