"""Both entrances to the scan path (the raw front and the Starlette route) store the same
facts and answer the same way, because both call ``ScanPath``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.assembly import create_app
from scanlet.clock import FixedClock
from scanlet.config import load_settings
from scanlet.http.app import ScanletApp
from scanlet.http.scan_path import PLAIN_REDIRECTS
from tests.dbquery import query

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TRACEPARENT = (b"traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")


@pytest.fixture
def app(scanlet_db: str, tmp_path: Path) -> ScanletApp:
    settings = load_settings(
        {
            "SCANLET_DB": scanlet_db,
            "SCANLET_SECRET_FILE": str(tmp_path / "scanlet.key"),
            "SCANLET_BASE_URL": "http://qr.test",
            "SCANLET_TRUSTED_PROXIES": "10.0.0.0/8",
            "SCANLET_COUNTRY_HEADER": "cf-ipcountry",
        },
        isatty=False,
    )
    return create_app(settings, registry=CollectorRegistry(), clock=FixedClock(NOW))


@pytest.fixture
def client(app: ScanletApp) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://qr.test") as test_client:
        yield test_client


def call(
    client: TestClient,
    app: ScanletApp,
    path: str,
    headers: list[tuple[bytes, bytes]],
    peer: str,
    method: str = "GET",
) -> tuple[int, dict[bytes, bytes]]:
    """One raw ASGI request with a chosen peer address (TestClient cannot pick one)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"qr.test"), *headers],
        "client": (peer, 40000),
        "server": ("qr.test", 80),
        "state": {},
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        await app(scope, receive, send)

    client.portal.call(run)  # type: ignore[union-attr]
    start = sent[0]
    return start["status"], dict(start["headers"])


def stored(app: ScanletApp, kind: str) -> list[dict[str, Any]]:
    rows = query(
        app.state.services.settings, "SELECT payload FROM events WHERE type = ? ORDER BY seq", kind
    )
    events = [msgspec.json.decode(row[0]) for row in rows]
    for event in events:
        del event["id"]
    return events


CASES: list[tuple[str, list[tuple[bytes, bytes]]]] = [
    ("203.0.113.7", [(b"user-agent", b"Phone/1.0"), (b"referer", b"https://a.example/")]),
    # The same client as an IPv4-mapped IPv6 peer: the same address, the same visitor.
    ("::ffff:203.0.113.7", [(b"user-agent", b"Phone/1.0"), (b"referer", b"https://a.example/")]),
    # Repeated headers: the first user agent and referrer, X-Forwarded-For joined in order.
    (
        "10.1.2.3",
        [
            (b"user-agent", b"First/1"),
            (b"user-agent", b"Second/2"),
            (b"x-forwarded-for", b"198.51.100.4, 10.9.9.9"),
            (b"x-forwarded-for", b"10.0.0.1"),
            (b"cf-ipcountry", b"DE"),
        ],
    ),
    # Spoofed headers from an untrusted peer count for nothing.
    ("198.51.100.200", [(b"x-forwarded-for", b"1.1.1.1"), (b"cf-ipcountry", b"FR")]),
    # A huge user agent and referrer are cut to what a scan keeps.
    ("203.0.113.8", [(b"user-agent", b"U" * 5000), (b"referer", b"R" * 5000)]),
]


def test_both_entrances_store_the_same_scan_for_the_same_request(
    app: ScanletApp, client: TestClient, mint_key: Callable[[Scope], str]
) -> None:
    headers = {"Authorization": f"Bearer {mint_key(Scope.WRITE)}"}
    made = client.post(
        "/api/v1/codes", json={"target": "https://example.com/", "slug": "menu"}, headers=headers
    )
    assert made.status_code == 201
    answers = []
    for peer, request_headers in CASES:
        for path in ("/menu", "/q/menu"):
            front = call(client, app, path, request_headers, peer)
            route = call(client, app, path, [*request_headers, TRACEPARENT], peer)
            answers.append((front[0], route[0]))
            assert front[1][b"location"] == route[1][b"location"] == b"https://example.com/"
    assert set(answers) == {(302, 302)}
    scans = stored(app, "scan.recorded")
    assert len(scans) == 4 * len(CASES)
    pairs = [(scans[i], scans[i + 1]) for i in range(0, len(scans), 2)]
    for untraced, traced in pairs:
        assert untraced == traced
    by_case = [scans[4 * n] for n in range(len(CASES))]
    assert by_case[0]["ip"] == by_case[1]["ip"] == "203.0.113.0"
    assert by_case[0]["visitor"] == by_case[1]["visitor"]
    assert by_case[2]["user_agent"] == "First/1"
    assert by_case[2]["ip"] == "198.51.100.0"
    assert by_case[2]["country"] == "DE"
    assert by_case[3]["ip"] == "198.51.100.0"
    assert "country" not in by_case[3]
    assert len(by_case[4]["user_agent"]) == 512
    assert len(by_case[4]["referrer"]) == 1024


def test_a_used_up_code_is_refused_once_and_counted_once(
    app: ScanletApp, client: TestClient, mint_key: Callable[[Scope], str]
) -> None:
    headers = {"Authorization": f"Bearer {mint_key(Scope.WRITE)}"}
    body = {"target": "https://example.com/", "slug": "once", "max_scans": 1}
    assert client.post("/api/v1/codes", json=body, headers=headers).status_code == 201
    assert call(client, app, "/once", [], "203.0.113.7")[0] == 302
    # The index still holds the code (max_scans is the scans actor's to enforce): the front
    # takes the request, and the refusal is answered there, not asked a second time.
    assert call(client, app, "/once", [], "203.0.113.7")[0] == 410
    assert call(client, app, "/once", [TRACEPARENT], "203.0.113.7")[0] == 410
    registry: CollectorRegistry = app.state.services.registry
    assert registry.get_sample_value("scanlet_scan_used_up_total") == 2
    assert len(stored(app, "scan.recorded")) == 1


def test_orphans_and_head_requests_answer_alike_on_both_entrances(
    app: ScanletApp, client: TestClient
) -> None:
    for extra in ([], [TRACEPARENT]):
        assert call(client, app, "/nothing", extra, "203.0.113.7")[0] == 404
        assert call(client, app, "/menu", extra, "203.0.113.7", method="HEAD")[0] == 404
    orphans = stored(app, "scan.orphaned")
    assert len(orphans) == 2
    assert orphans[0] == orphans[1]


def test_a_plain_code_answers_with_one_reply_and_a_code_with_rules_keeps_none(
    app: ScanletApp, client: TestClient, mint_key: Callable[[Scope], str]
) -> None:
    headers = {"Authorization": f"Bearer {mint_key(Scope.WRITE)}"}
    plain = {"target": "https://example.com/", "slug": "menu"}
    ruled = {
        "target": "https://example.com/",
        "slug": "ruled",
        "rules": [{"when": {"language": "de"}, "target": "https://example.com/de"}],
    }
    for body in (plain, ruled):
        assert client.post("/api/v1/codes", json=body, headers=headers).status_code == 201
    assert app.fast_path is not None
    scan_path = app.fast_path.scan_path
    kept = scan_path._plain_redirects
    for _ in range(3):
        assert (
            call(client, app, "/menu", [], "203.0.113.7")[1][b"location"]
            == plain["target"].encode()
        )
    assert list(kept) == [(302, b"https://example.com/")]
    german = [(b"accept-language", b"de")]
    assert (
        call(client, app, "/ruled", german, "203.0.113.7")[1][b"location"]
        == b"https://example.com/de"
    )
    assert call(client, app, "/ruled", [], "203.0.113.7")[1][b"location"] == b"https://example.com/"
    assert list(kept) == [(302, b"https://example.com/")]
    # Bounded: past PLAIN_REDIRECTS the replies kept start afresh.
    first = scan_path.plain_redirect(301, b"https://example.com/0")
    assert scan_path.plain_redirect(301, b"https://example.com/0") is first
    for n in range(1, PLAIN_REDIRECTS + 1):
        scan_path.plain_redirect(301, f"https://example.com/{n}".encode())
    assert len(kept) <= PLAIN_REDIRECTS
    again = scan_path.plain_redirect(301, b"https://example.com/0")
    assert again is not first
    assert again.headers == first.headers
