"""``scanlet export archive`` and ``scanlet import archive``: a round trip into an empty
database answers the API as the source did (codes, stats, raw scans)."""

from __future__ import annotations

import base64
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from starlette.testclient import TestClient

from scanlet.cli import main
from scanlet.http.scan_path import EXCLUDE_COOKIE
from tests.importing.server import ApiReader, settings_for
from tests.pg import PgDatabases

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
BOT = "Googlebot/2.1 (+http://www.google.com/bot.html)"
SECRET = "open sesame"
SPAN = "from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z&include_bots=true"
LOGO_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4">'
    b'<circle cx="2" cy="2" r="2" fill="#1565c0"/></svg>'
)
#: A header line and one code, for archives written by hand.
HEADER = b'{"kind":"scanlet-archive","version":1,"exported_at":"2026-01-01T00:00:00Z"}\n'
CODE = (
    b'{"kind":"code","slug":"a","target":"https://e.com/","created_at":"2025-01-01T00:00:00Z",'
    b'"updated_at":"2025-01-02T00:00:00Z"}\n'
)


def _fill(client: TestClient, headers: dict[str, str]) -> None:
    """Codes of every kind and scans of every source in the source database."""
    codes: list[dict[str, Any]] = [
        {"target": "https://example.com/menu", "slug": "menu", "title": "Menu", "tags": ["a"]},
        {
            "target": "https://example.com/lim",
            "slug": "lim",
            "max_scans": 100,
            "valid_until": "2029-01-01T00:00:00Z",
            "redirect_status": 307,
        },
        {"target": "https://example.com/off", "slug": "off"},
        {"target": "https://example.com/gone", "slug": "gone"},
        # Routing (#15): every field, and a password (its hash travels, never the text).
        {
            "target": "https://example.com/routed",
            "slug": "routed",
            "fallback_url": "https://example.com/over",
            "rules": [{"when": {"device": "mobile"}, "target": "https://example.com/phone"}],
            "split": [
                {"target": "https://example.com/a", "weight": 50},
                {"target": "https://example.com/b", "weight": 50},
            ],
            "forward_query": True,
        },
        {"target": "https://example.com/secret", "slug": "secret", "password": SECRET},
        # Codes that are not links (#16): a static one, and a tracked card with a scan.
        {"kind": "wifi", "slug": "wifi", "content": {"ssid": "Home", "password": "pw1"}},
        {"kind": "vcard", "slug": "card", "content": {"name": "Jane Doe"}, "tracked": True},
    ]
    for body in codes:
        assert client.post("/api/v1/codes", json=body, headers=headers).status_code == 201
    # Logos (#16): an SVG and a PNG travel with their codes.
    for slug, data, media_type in (
        ("menu", LOGO_SVG, "image/svg+xml"),
        ("lim", _png(), "image/png"),
    ):
        uploaded = client.put(
            f"/api/v1/codes/{slug}/logo",
            content=data,
            headers={**headers, "content-type": media_type},
        )
        assert uploaded.status_code == 200, uploaded.text
    for agent, ref in [(PHONE, "https://www.google.com/"), (BOT, None), (PHONE, None)]:
        extra = {"user-agent": agent, **({"referer": ref} if ref else {})}
        assert client.get("/menu", headers=extra, follow_redirects=False).status_code == 302
        assert client.get("/q/lim", headers=extra, follow_redirects=False).status_code == 307
        assert client.get("/q/gone", headers=extra, follow_redirects=False).status_code == 302
        assert client.get("/routed?c=1", headers=extra, follow_redirects=False).status_code == 302
    # The owner's own scan (the exclude-me cookie), and one let through by the password.
    own = {"user-agent": PHONE, "cookie": f"{EXCLUDE_COOKIE}=1"}
    assert client.get("/q/routed", headers=own, follow_redirects=False).status_code == 302
    unlocked = client.post("/secret", data={"password": SECRET}, follow_redirects=False)
    assert unlocked.status_code == 302
    assert client.get("/q/card", headers={"user-agent": PHONE}).status_code == 200
    client.get("/nothing-here", headers={"accept": "application/json"})
    events = [
        {
            "type": "scan",
            "id": str(uuid.uuid4()),
            "slug": "menu",
            "occurred_at": "2026-11-01T10:00:00Z",
            "device_id": "gate-1",
            "data": {"door": 3},
        }
    ]
    assert (
        client.post("/api/v1/events", json={"events": events}, headers=headers).json()["results"][
            0
        ]["status"]
        == "accepted"
    )
    patch = client.patch("/api/v1/codes/off", json={"enabled": False}, headers=headers)
    assert patch.status_code == 200
    # A disabled code with a fallback: its scans are recorded as fallbacks.
    patch = client.patch("/api/v1/codes/routed", json={"enabled": False}, headers=headers)
    assert patch.status_code == 200
    assert client.get("/routed", follow_redirects=False).headers["location"] == (
        "https://example.com/over"
    )
    assert client.delete("/api/v1/codes/gone", headers=headers).status_code == 204
    hook = {"url": "https://1.1.1.1/in", "events": ["*"]}
    assert client.post("/api/v1/webhooks", json=hook, headers=headers).status_code == 201


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "#c62828").save(out, "PNG")
    return out.getvalue()


def _answers(reader: ApiReader) -> dict[str, Any]:
    """What the API says about everything, minus log positions (a new log numbers anew)."""

    def unseq(page: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: v for k, v in item.items() if k != "seq"} for item in page["items"]]

    found: dict[str, Any] = {}
    with reader.session() as (client, headers):

        def get(path: str) -> Any:
            reply = client.get(path, headers=headers)
            assert reply.status_code == 200, reply.text
            return reply.json()

        found["codes"] = get("/api/v1/codes?limit=1000")["items"]
        found["stats"] = get(f"/api/v1/stats?{SPAN}")
        found["orphans"] = unseq(get("/api/v1/orphan-scans?limit=1000"))
        for code in found["codes"]:
            slug = code["slug"]
            if code["has_logo"]:
                logo = client.get(f"/api/v1/codes/{slug}/logo", headers=headers)
                found[f"{slug}/logo"] = (logo.headers["content-type"], logo.content)
            found[f"{slug}/stats"] = get(f"/api/v1/codes/{slug}/stats?{SPAN}")
            found[f"{slug}/scans"] = unseq(get(f"/api/v1/codes/{slug}/scans?limit=1000"))
        found["gone"] = client.post(
            "/api/v1/codes", json={"target": "https://x.example/", "slug": "gone"}, headers=headers
        ).status_code
    return found


@pytest.fixture
def target_db(scanlet_db: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if scanlet_db.startswith("postgresql"):
        databases: PgDatabases = request.getfixturevalue("pg_databases")
        return databases.create()
    return str(tmp_path / "target.db")


def test_a_round_trip_into_an_empty_database_gives_the_same_answers(
    scanlet_db: str,
    target_db: str,
    api: ApiReader,
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    with api.session() as (client, headers):
        _fill(client, headers)
    source = _answers(api)
    capsysbinary.readouterr()
    assert main(["export", "archive", "--db", scanlet_db]) == 0
    archive = capsysbinary.readouterr().out
    path = tmp_path / "scanlet.jsonl"
    path.write_bytes(archive)
    lines = [json.loads(line) for line in archive.splitlines()]
    assert lines[0]["kind"] == "scanlet-archive"
    kinds = [line["kind"] for line in lines]
    assert kinds.count("code") == 8
    assert kinds.count("scan") == 18
    assert "whsec_" not in archive.decode()
    assert all("secret" not in line for line in lines)
    assert SECRET not in archive.decode()
    [protected] = [x for x in lines if x["kind"] == "code" and x["slug"] == "secret"]
    assert protected["password_hash"].startswith("$argon2id$")

    assert main(["migrate", "--db", target_db]) == 0
    assert main(["import", "archive", str(path), "--db", target_db]) == 0
    report = capsysbinary.readouterr().out.decode()
    assert "codes: 8 created; visits: 18 imported" in report
    assert "note     webhook " in report
    assert "create it again for https://1.1.1.1/in" in report
    target = ApiReader(settings_for(target_db, tmp_path))
    copied = _answers(target)
    assert copied == source
    assert copied["gone"] == 409
    assert copied["menu/logo"] == ("image/svg+xml", LOGO_SVG)
    assert copied["lim/logo"] == ("image/png", _png())
    routed = {c["slug"]: c for c in copied["codes"]}["routed"]
    assert routed["rules"][0]["when"] == {"device": "mobile"}
    assert [s["outcome"] for s in copied["routed/scans"]].count("fallback") == 1
    assert [s["excluded"] for s in copied["routed/scans"]].count(True) == 1
    assert [s["outcome"] for s in copied["secret/scans"]] == ["password"]
    copied_codes = {c["slug"]: c for c in copied["codes"]}
    assert copied_codes["wifi"]["qr_payload"] == "WIFI:T:WPA;S:Home;P:pw1;;"
    assert (copied_codes["card"]["kind"], copied_codes["card"]["tracked"]) == ("vcard", True)
    assert [s["outcome"] for s in copied["card/scans"]] == ["card"]
    # The copy still asks for the password, and still knows it.
    with target.session() as (client, _):
        assert "type=password" in client.get("/secret").text
        unlocked = client.post("/secret", data={"password": SECRET}, follow_redirects=False)
        assert unlocked.headers["location"] == "https://example.com/secret"
    # Imported again: nothing doubles.
    assert main(["import", "archive", str(path), "--db", target_db]) == 0
    assert "codes: 8 kept; visits: 0 imported; 18 already imported" in (
        capsysbinary.readouterr().out.decode()
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b'{"kind": "code"}\n', "is not a Scanlet archive"),
        (b"not json\n", "is not a Scanlet archive"),
        (
            b'{"kind": "scanlet-archive", "version": 9, "exported_at": "2026-01-01T00:00:00Z"}\n',
            "archive format version 9",
        ),
    ],
)
def test_what_is_not_an_archive_is_refused_in_one_line(
    scanlet_db: str,
    api: ApiReader,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    message: str,
) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    assert main(["import", "archive", str(path), "--db", scanlet_db]) == 1
    assert message in capsys.readouterr().err


def test_a_bad_line_is_reported_and_the_rest_imported(
    scanlet_db: str, api: ApiReader, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scan = (
        b'{"kind":"scan","id":"0190c0de-0000-7000-8000-000000000001","slug":"a",'
        b'"occurred_at":"2025-01-03T00:00:00Z","source":"qr","ip":"203.0.113.50"}\n'
    )
    path = tmp_path / "a.jsonl"
    path.write_bytes(HEADER + CODE + b'{"kind":"scan","slug":1}\n' + scan)
    assert main(["import", "archive", str(path), "--db", scanlet_db]) == 1
    out, err = capsys.readouterr()
    assert "codes: 1 created, 1 failed; visits: 1 imported" in out
    assert "a.jsonl line 3" in err
    scans = api.get("/api/v1/codes/a/scans")["items"]
    # A full address in an archive is anonymised like any other.
    assert [(s["source"], s["ip"]) for s in scans] == [("qr", "203.0.113.0")]
    assert api.get("/api/v1/codes/a")["updated_at"] == "2025-01-02T00:00:00Z"


def test_scan_lines_obey_the_rules_device_events_do(
    scanlet_db: str, api: ApiReader, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:

    def scan(n: int, **extra: Any) -> bytes:
        line = {
            "kind": "scan",
            "id": f"0190c0de-0000-7000-8000-{n:012d}",
            "slug": "a",
            "occurred_at": "2025-01-03T00:00:00Z",
            "source": "device",
            **extra,
        }
        return json.dumps(line).encode() + b"\n"

    deep: Any = 1
    for _ in range(10):
        deep = {"d": deep}
    path = tmp_path / "rules.jsonl"
    path.write_bytes(
        HEADER
        + CODE
        + scan(1, data={"door": 3})
        + scan(2, data={"big": "x" * 5000})
        + scan(3, data=deep)
        + scan(4, id="not-a-uuid")
        + scan(5, occurred_at="2999-01-01T00:00:00Z")
        + scan(6, slug="", orphan=True)
    )
    assert main(["import", "archive", str(path), "--db", scanlet_db]) == 1
    out, err = capsys.readouterr()
    assert "visits: 1 imported; 5 failed" in out
    assert "data is larger than 4096 bytes" in err
    assert "data nests deeper than 8 levels" in err
    assert "id must be a UUID" in err
    assert "time is in the future" in err
    assert "orphan visit's path must be 1 to 318 printable characters" in err
    assert [s["data"] for s in api.get("/api/v1/codes/a/scans")["items"]] == [{"door": 3}]


def test_a_code_whose_password_hash_is_not_an_affordable_argon2id_one_is_refused(
    scanlet_db: str, api: ApiReader, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def code(slug: str, password_hash: str) -> bytes:
        line = json.loads(CODE)
        return json.dumps({**line, "slug": slug, "password_hash": password_hash}).encode() + b"\n"

    costly = "$argon2id$v=19$m=4194304,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
    path = tmp_path / "pw.jsonl"
    path.write_bytes(HEADER + code("plain", "open sesame") + code("costly", costly))
    assert main(["import", "archive", str(path), "--db", scanlet_db]) == 1
    out, err = capsys.readouterr()
    assert "codes: 2 failed" in out
    assert err.count("password_hash: must be an argon2id hash") == 2


def test_a_logo_in_an_archive_is_checked_as_an_upload_is(
    scanlet_db: str, api: ApiReader, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def code(slug: str, data: bytes, media_type: str) -> bytes:
        line = json.loads(CODE)
        logo = {"media_type": media_type, "data": base64.b64encode(data).decode()}
        return json.dumps({**line, "slug": slug, "logo": logo}).encode() + b"\n"

    hostile = (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><script>x()</script></svg>'
    )
    path = tmp_path / "logos.jsonl"
    path.write_bytes(
        HEADER
        + code("good", LOGO_SVG, "image/svg+xml")
        + code("script", hostile, "image/svg+xml")
        + code("forged", b"GIF89a....", "image/png")
    )
    assert main(["import", "archive", str(path), "--db", scanlet_db]) == 1
    out, err = capsys.readouterr()
    assert "codes: 1 created, 2 failed" in out
    assert "logo: an SVG logo must not contain scripts (<script>)" in err
    assert "logo: is not a readable PNG image" in err
    assert api.get("/api/v1/codes/good")["has_logo"] is True


def _domain_answers(reader: ApiReader) -> dict[str, Any]:
    """The domains, the codes and each code's scans (by its slug and domain)."""
    found: dict[str, Any] = {}
    with reader.session() as (client, headers):

        def get(path: str, **params: str) -> Any:
            reply = client.get(path, params=params, headers=headers)
            assert reply.status_code == 200, reply.text
            return reply.json()

        found["domains"] = [
            {k: v for k, v in d.items() if k not in ("created_at", "updated_at")}
            for d in get("/api/v1/domains")["items"]
        ]
        found["codes"] = get("/api/v1/codes")["items"]
        for code in found["codes"]:
            scans = get(f"/api/v1/codes/{code['slug']}/scans", domain=code["domain"])
            found[f"{code['domain']}/{code['slug']}"] = [s["target"] for s in scans["items"]]
        found["orphans"] = sorted(o["slug"] for o in get("/api/v1/orphan-scans")["items"])
    return found


def test_an_archive_carries_domains_and_each_code_s_domain(
    scanlet_db: str,
    target_db: str,
    api: ApiReader,
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    here, there = "https://example.com/here", "https://example.com/there"
    with api.session() as (client, headers):
        domain = {"host": "links.example", "not_found_url": "https://example.com/x/{slug}"}
        assert client.post("/api/v1/domains", json=domain, headers=headers).status_code == 201
        for body in (
            {"target": here, "slug": "menu"},
            {"target": there, "slug": "menu", "domain": "links.example"},
        ):
            assert client.post("/api/v1/codes", json=body, headers=headers).status_code == 201
        for host in ("qr.test", "links.example", "links.example"):
            client.get("/menu", headers={"host": host}, follow_redirects=False)
        client.get("/nosuch", headers={"host": "links.example"}, follow_redirects=False)
    source = _domain_answers(api)
    assert source["links.example/menu"] == [there, there]
    assert source["orphans"] == ["links.example/nosuch"]
    limited = ["--domain", "links.example", "--tag", "print"]
    assert main(["keys", "create", "--name", "printer", "--db", scanlet_db, *limited]) == 0
    capsysbinary.readouterr()
    assert main(["export", "archive", "--db", scanlet_db]) == 0
    archive = capsysbinary.readouterr().out
    lines = [json.loads(line) for line in archive.splitlines()]
    assert [line["kind"] for line in lines[:2]] == ["scanlet-archive", "domain"]
    [key] = [x for x in lines if x["kind"] == "key" and x["name"] == "printer"]
    assert (key["domains"], key["tags"]) == (["links.example"], ["print"])
    codes = [(x["slug"], x.get("domain")) for x in lines if x["kind"] == "code"]
    assert sorted(codes, key=str) == [("menu", "links.example"), ("menu", None)]
    path = tmp_path / "scanlet.jsonl"
    path.write_bytes(archive)
    assert main(["migrate", "--db", target_db]) == 0
    assert main(["import", "archive", str(path), "--db", target_db]) == 0
    report = capsysbinary.readouterr().out.decode()
    assert "codes: 2 created; visits: 4 imported" in report
    # The key is not made again (its secret is not exported), but the note names its limits.
    assert "key named 'printer' again, with --tag print --domain links.example" in report
    copied = _domain_answers(ApiReader(settings_for(target_db, tmp_path)))
    assert copied == source
    # Imported again: the domain is kept, nothing doubles.
    assert main(["import", "archive", str(path), "--db", target_db]) == 0
    assert "codes: 2 kept; visits: 0 imported; 4 already imported" in (
        capsysbinary.readouterr().out.decode()
    )
