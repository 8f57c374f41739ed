"""``scanlet import shlink`` against a fake Shlink: codes with their settings, visits as
``import`` scans with their facts, orphan visits, idempotence, conflicts, dry runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanlet.cli import main
from tests.importing.fakes import Answer, FakeShlink, serving
from tests.importing.server import ApiReader


def test_codes_and_visits_come_over_once_however_often_it_runs(
    scanlet_db: str, api: ApiReader, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeShlink()
    fake.add(
        "menu",
        "https://example.com/menu",
        visits=25,
        title="Lunch menu",
        tags=["food", "print"],
        meta={"validSince": None, "validUntil": "2030-01-01T00:00:00+00:00", "maxVisits": 500},
    )
    fake.add("promo", "https://example.com/promo", visits=3)
    fake.visits["promo"][0]["potentialBot"] = True
    fake.orphans = [
        {**FakeShlink.visit(0), "visitedUrl": "https://s.test/gone", "type": "invalid_short_url"}
    ]
    with serving(fake) as url:
        args = ["import", "shlink", "--url", url, "--api-key", "shlink-key", "--db", scanlet_db]
        assert main(args) == 0
        first = capsys.readouterr().out
        assert main(args) == 0
        second = capsys.readouterr().out
    assert "2 created" in first
    assert "visits: 29 imported" in first
    assert "2 kept" in second
    assert "visits: 0 imported; 29 already imported" in second

    menu = api.get("/api/v1/codes/menu")
    assert menu["target"] == "https://example.com/menu"
    assert menu["title"] == "Lunch menu"
    assert menu["tags"] == ["food", "print"]
    assert menu["valid_until"] == "2030-01-01T00:00:00Z"
    assert menu["max_scans"] == 500
    assert menu["created_at"] == "2024-03-01T09:00:00Z"
    assert menu["scans"] == 25
    scans = api.get("/api/v1/codes/promo/scans")["items"]
    assert len(scans) == 3
    assert {s["source"] for s in scans} == {"import"}
    assert sorted(s["bot"] for s in scans) == [False, False, True]
    assert {s["country"] for s in scans} == {"ES"}
    stats = api.get("/api/v1/codes/menu/stats?from=2024-03-01T00:00:00Z&to=2024-03-10T00:00:00Z")
    assert stats["total"] == 25
    assert stats["by_source"] == {"import": 25}
    assert stats["by_referrer"]["google.com"] == 12
    orphans = api.get("/api/v1/orphan-scans")["items"]
    assert [o["slug"] for o in orphans] == ["gone"]


def test_a_clash_is_skipped_renamed_or_stops_the_import(
    scanlet_db: str, api: ApiReader, capsys: pytest.CaptureFixture[str]
) -> None:
    api.post("/api/v1/codes", {"target": "https://mine.example/", "slug": "menu"})
    fake = FakeShlink()
    fake.add("menu", "https://example.com/menu", visits=2)
    fake.add("api", "https://example.com/reserved-name")
    fake.add("zz", "https://example.com/zz")
    with serving(fake) as url:
        base = ["import", "shlink", "--url", url, "--api-key", "shlink-key", "--db", scanlet_db]
        assert main([*base, "--dry-run"]) == 0
        dry = capsys.readouterr().out
        assert main([*base, "--on-conflict", "fail"]) == 1
        failed = capsys.readouterr()
        assert main([*base, "--on-conflict", "skip"]) == 0
        skipped = capsys.readouterr().out
        assert main([*base, "--on-conflict", "rename"]) == 0
        renamed = capsys.readouterr().out
    assert "dry run: codes: 1 created, 2 skipped" in dry
    assert api.get("/api/v1/codes/menu")["target"] == "https://mine.example/"
    assert "import stopped: stopped at shlink:" in failed.err
    assert "slug 'menu' is taken by another code" in failed.err
    assert "codes: none" in failed.out.splitlines()[-1] or "1 failed" in failed.out
    assert "skipped  shlink:" in skipped
    assert "1 created" in skipped
    assert "menu-2" in renamed
    assert "api-2" in renamed
    assert "1 kept" in renamed
    assert api.get("/api/v1/codes/menu-2")["scans"] == 2
    assert api.get("/api/v1/codes/menu")["scans"] == 0


def test_a_wrong_key_or_an_unreachable_server_is_one_line_and_exit_1(
    scanlet_db: str, api: ApiReader, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with serving(FakeShlink()) as url:
        assert (
            main(["import", "shlink", "--url", url, "--api-key", "nope", "--db", scanlet_db]) == 1
        )
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "scanlet: import stopped: shlink answered 401 to /rest/v3/short-urls (is the key right?)"
    ]
    assert main(["import", "shlink", "--url", "ftp://x", "--api-key", "k", "--db", scanlet_db]) == 1
    assert "--url must be an http:// or https:// URL" in capsys.readouterr().err


def test_bad_items_are_reported_and_the_rest_imported(
    scanlet_db: str, api: ApiReader, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeShlink()
    fake.add("ok", "https://example.com/ok", visits=1)
    fake.add("js", "javascript:alert(1)")
    fake.add("self", "http://qr.test/elsewhere")
    fake.add("bad slug", "https://example.com/")
    fake.add("future", "https://example.com/f", visits=1)
    fake.visits["future"][0]["date"] = "2999-01-01T00:00:00+00:00"
    fake.short_urls.append({"shortCode": 5})
    with serving(fake) as url:
        code = main(
            ["import", "shlink", "--url", url, "--api-key", "shlink-key", "--db", scanlet_db]
        )
    out, err = capsys.readouterr()
    assert code == 1
    assert "codes: 2 created, 4 failed" in out
    assert "visits: 1 imported; 1 failed" in out
    assert "target: must be an absolute http:// or https:// URL" in err
    assert "own origin" in err or "this server" in err
    assert "slug" in err
    assert "time is in the future" in err
    assert api.get("/api/v1/codes/ok")["scans"] == 1


def test_an_interrupted_import_goes_on_where_it_stopped_when_run_again(
    scanlet_db: str, api: ApiReader, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeShlink()
    for n in range(3):
        fake.add(f"r{n}", f"https://example.com/{n}", visits=1500)
    answer = fake.__call__
    broken = {"on": True}

    def flaky(path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        # The second page of r1's visits fails, once: the run stops half-way through r1.
        if broken["on"] and path.endswith("/r1/visits") and query.get("page") == "2":
            broken["on"] = False
            return 500, {"status": 500}
        return answer(path, query, headers)

    with serving(flaky) as url:
        args = ["import", "shlink", "--url", url, "--api-key", "shlink-key", "--db", scanlet_db]
        assert main(args) == 1
        first = capsys.readouterr()
        assert main(args) == 0
        second = capsys.readouterr().out
    assert "import stopped: shlink answered 500" in first.err
    # r0 whole and r1's first page of 1000 visits, then the failure.
    assert "codes: 2 created; visits: 2500 imported" in first.out
    assert "codes: 1 created, 2 kept; visits: 2000 imported; 2500 already imported" in second
    assert [api.get(f"/api/v1/codes/r{n}")["scans"] for n in range(3)] == [1500, 1500, 1500]


def test_a_dry_run_stores_nothing(
    scanlet_db: str, api: ApiReader, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeShlink()
    fake.add("d1", "https://example.com/1", visits=4)
    # The same short code on another domain: another code whose slug clashes. (The same
    # code twice on one domain would be one origin, kept the second time, as a real run
    # does.) The fake has one list of visits per short code: both get those 4.
    fake.add("d1", "https://example.com/dup", visits=4, domain="s2.test")
    fake.add("bad", "ftp://example.com/")
    with serving(fake) as url:
        args = ["import", "shlink", "--url", url, "--api-key", "shlink-key", "--db", scanlet_db]
        assert main([*args, "--dry-run", "--on-conflict", "rename"]) == 1
    out, err = capsys.readouterr()
    assert "dry run: codes: 1 created, 1 renamed, 1 failed; visits: 8 would import" in out
    assert "renamed  shlink:" in out
    assert "d1-2" in out
    assert "target" in err
    assert api.get("/api/v1/codes")["items"] == []
    assert api.get("/api/v1/orphan-scans")["items"] == []


def test_a_source_cannot_make_the_import_hold_an_endless_answer(
    scanlet_db: str,
    api: ApiReader,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("scanlet.importing.sources.web.MAX_ANSWER", 10_000)
    fake = FakeShlink()
    fake.add("big", "https://example.com/" + "x" * 20_000)
    with serving(fake) as url:
        args = ["import", "shlink", "--url", url, "--api-key", "shlink-key", "--db", scanlet_db]
        assert main(args) == 1
    assert "an answer larger than 10000 bytes" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import"], "required: import_command"),
        (["import", "shlink", "--url", "http://x"], "required: --api-key"),
        (["import", "csv"], "required: FILE"),
        (["import", "csv", "f.csv", "--format", "excel"], "invalid choice: 'excel'"),
        (["import", "kutt", "--url", "u", "--api-key", "k", "--on-conflict", "merge"], "merge"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize("source", ["shlink", "yourls", "kutt", "csv", "archive"])
def test_every_importer_has_help(source: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["import", source, "--help"])
    assert exited.value.code == 0
    assert "--on-conflict" in capsys.readouterr().out


def test_importing_into_no_database_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "none.db")
    assert main(["import", "csv", str(tmp_path / "x.csv"), "--db", missing]) == 1
    assert "no database at" in capsys.readouterr().err


IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


def test_redirect_rules_come_over_and_each_one_left_out_is_noted(
    scanlet_db: str, api: ApiReader, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeShlink()
    fake.add("app", "https://example.com/app", hasRedirectRules=True, forwardQuery=False)
    fake.rules["app"] = [
        FakeShlink.rule("https://example.com/lan", 1, ("ip-address", None, "10.0.0.0/8")),
        FakeShlink.rule("https://play.example/app", 2, ("device", None, "android")),
        FakeShlink.rule(
            "https://apps.example/en", 3, ("device", None, "ios"), ("language", None, "en_US")
        ),
        FakeShlink.rule(
            "https://example.com/poster-es",
            4,
            ("query-param", "utm", "poster"),
            ("geolocation-country-code", None, "es"),
        ),
        # A target on the server itself: Scanlet refuses it, the code comes over without it.
        FakeShlink.rule("http://qr.test/loop", 5, ("language", None, "fr")),
        FakeShlink.rule("https://example.com/chrome", 6, ("browser", None, "chrome")),
        # Not a language tag Scanlet reads (the API's types refuse it): left out too.
        FakeShlink.rule("https://example.com/any", 7, ("language", None, "*")),
    ]
    fake.add("plain", "https://example.com/plain")
    with serving(fake) as url:
        args = ["import", "shlink", "--url", url, "--api-key", "shlink-key", "--db", scanlet_db]
        assert main(args) == 0
    out = capsys.readouterr().out
    assert "codes: 2 created" in out
    app = api.get("/api/v1/codes/app")
    assert app["rules"] == [
        {"when": {"os": "android"}, "target": "https://play.example/app"},
        {"when": {"os": "ios", "language": "en-us"}, "target": "https://apps.example/en"},
        {
            "when": {"country": "ES", "query": {"utm": "poster"}},
            "target": "https://example.com/poster-es",
        },
    ]
    assert app["forward_query"] is False
    plain = api.get("/api/v1/codes/plain")
    assert (plain["rules"], plain["forward_query"]) == ([], True)
    # Shlink 4.3+ says when a short URL has no rules: nothing asked for them.
    assert "/rest/v3/short-urls/plain/redirect-rules" not in fake.requests
    notes = sorted(line for line in out.splitlines() if line.startswith("note"))
    origin = f"shlink:{url.removeprefix('http://')}//app"
    assert notes.pop(1).startswith(
        f"note     {origin}  a redirect rule to https://example.com/any not carried over: "
        "Expected `str` matching regex"
    )
    assert notes == [
        f"note     {origin}  a redirect rule to http://qr.test/loop not carried over: "
        "rules[3].target: must not point at this server (http://qr.test): a code cannot "
        "redirect to a short link",
        f"note     {origin}  redirect rule 1 (to https://example.com/lan) not carried over: "
        "Scanlet has no equivalent of the condition 'ip-address 10.0.0.0/8'",
        f"note     {origin}  redirect rule 6 (to https://example.com/chrome) not carried over: "
        "Scanlet has no equivalent of the condition 'browser chrome'",
    ]
    # And they decide as they did in Shlink.
    with api.session() as (client, _):
        iphone = {"user-agent": IPHONE, "accept-language": "en-US,en;q=0.8"}
        ios = client.get("/app", headers=iphone, follow_redirects=False)
        assert ios.headers["location"] == "https://apps.example/en"
        poster = client.get("/app?utm=poster", follow_redirects=False)
        assert poster.headers["location"] == "https://example.com/app"  # no country known


def test_device_long_urls_of_shlink_3_become_rules(
    scanlet_db: str, api: ApiReader, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeShlink(rules=False)
    fake.add(
        "old",
        "https://example.com/old",
        deviceLongUrls={"android": "https://play.example/old", "ios": None, "desktop": None},
    )
    fake.add("older", "https://example.com/older")  # no deviceLongUrls, no rules route: none
    with serving(fake) as url:
        args = ["import", "shlink", "--url", url, "--api-key", "shlink-key", "--db", scanlet_db]
        assert main(args) == 0
    assert "codes: 2 created" in capsys.readouterr().out
    assert api.get("/api/v1/codes/old")["rules"] == [
        {"when": {"os": "android"}, "target": "https://play.example/old"}
    ]
    assert api.get("/api/v1/codes/older")["rules"] == []
    assert "/rest/v3/short-urls/old/redirect-rules" not in fake.requests
    assert "/rest/v3/short-urls/older/redirect-rules" in fake.requests
