"""Abuse limits on the scan routes: unknown slugs per address, and the optional redirect limit."""

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.assembly import create_app
from scanlet.config import RateLimit, load_settings
from scanlet.http.ratelimit import RateLimiter, limit_key, retry_after


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_count_then_says_how_long_to_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(3, 60.0), clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(20.0)
    clock.now += 10
    assert limiter.take("a") == pytest.approx(10.0)
    clock.now += 10
    assert limiter.take("a") == 0.0


def test_refused_requests_do_not_drain_the_bucket_further() -> None:
    clock = FakeClock()
    limiter = RateLimiter(RateLimit(1, 10.0), clock=clock)
    assert limiter.take("a") == 0.0
    for _ in range(5):
        assert limiter.take("a") == pytest.approx(10.0)
    clock.now += 10
    assert limiter.take("a") == 0.0


def test_addresses_have_separate_buckets() -> None:
    limiter = RateLimiter(RateLimit(1, 60.0), clock=FakeClock())
    assert limiter.take("198.51.100.1") == 0.0
    assert limiter.take("198.51.100.1") > 0
    assert limiter.take("198.51.100.2") == 0.0


def test_the_table_is_bounded_and_forgets_the_address_seen_longest_ago() -> None:
    limiter = RateLimiter(RateLimit(1, 60.0), max_keys=3, clock=FakeClock())
    for key in ("a", "b", "c"):
        limiter.take(key)
    limiter.take("a")  # "a" is now the most recent; "b" the oldest
    limiter.take("d")
    assert len(limiter) == 3
    assert limiter.take("b") == 0.0  # forgotten, so a fresh bucket
    assert limiter.take("a") > 0  # still remembered


def test_ipv6_addresses_share_their_slash_64_and_mapped_ipv4_is_ipv4() -> None:
    assert limit_key("2001:db8:1:2:aaaa::1") == limit_key("2001:db8:1:2:bbbb::9")
    assert limit_key("2001:db8:1:2::1") != limit_key("2001:db8:1:3::1")
    assert limit_key("::ffff:203.0.113.9") == "203.0.113.9"
    assert limit_key("203.0.113.9") == "203.0.113.9"
    assert limit_key("") == ""
    assert limit_key("not:an:address") == "not:an:address"


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert retry_after(0.01) == "1"
    assert retry_after(19.2) == "20"


def limited_app(tmp_path: Path, **env: str) -> Starlette:
    settings = load_settings(
        {
            "SCANLET_DB": str(tmp_path / "scanlet.db"),
            "SCANLET_BASE_URL": "http://qr.test",
            **env,
        },
        isatty=False,
    )
    return create_app(settings, registry=CollectorRegistry())


@pytest.fixture
def notfound_client(tmp_path: Path) -> Iterator[tuple[Starlette, TestClient]]:
    app = limited_app(tmp_path, SCANLET_NOTFOUND_LIMIT="3/minute")
    with TestClient(app, base_url="http://qr.test") as client:
        yield app, client


def make_code(app: Starlette, client: TestClient, slug: str) -> None:
    store = app.state.services.keys
    created = client.portal.call(  # type: ignore[union-attr]
        lambda: store.create("t", Scope.WRITE, now=datetime.now(UTC))
    )
    response = client.post(
        "/api/v1/codes",
        json={"target": "https://example.com/", "slug": slug},
        headers={"Authorization": f"Bearer {created.token}"},
    )
    assert response.status_code == 201, response.text


def orphans(app: Starlette) -> int:
    with sqlite3.connect(app.state.services.settings.db) as conn:
        count: int = conn.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'scan.orphaned'"
        ).fetchone()[0]
    return count


def test_unknown_slugs_past_the_limit_get_429_with_retry_after_and_are_not_recorded(
    notfound_client: tuple[Starlette, TestClient],
) -> None:
    app, client = notfound_client
    assert [client.get(f"/guess{i}").status_code for i in range(3)] == [404, 404, 404]
    refused = client.get("/guess3")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/rate-limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 20
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert client.get("/q/guess4").status_code == 429
    assert orphans(app) == 3
    assert 'scanlet_rate_limited_total{limit="notfound"} 2.0' in client.get("/metrics").text


def test_a_browser_gets_the_small_html_page_for_429(
    notfound_client: tuple[Starlette, TestClient],
) -> None:
    _, client = notfound_client
    for i in range(3):
        client.get(f"/guess{i}")
    page = client.get("/guess", headers={"accept": "text/html,*/*"})
    assert page.status_code == 429
    assert page.headers["content-type"].startswith("text/html")
    assert "Too many requests" in page.text
    assert page.headers["retry-after"]


def test_live_codes_are_not_limited_by_default_even_after_the_notfound_limit(
    notfound_client: tuple[Starlette, TestClient],
) -> None:
    app, client = notfound_client
    make_code(app, client, "menu")
    for i in range(4):
        client.get(f"/guess{i}")
    statuses = {client.get("/menu", follow_redirects=False).status_code for _ in range(20)}
    assert statuses == {302}


def test_the_optional_redirect_limit_applies_per_address_on_the_fast_path(
    tmp_path: Path,
) -> None:
    app = limited_app(tmp_path, SCANLET_REDIRECT_LIMIT="2/minute")
    with TestClient(app, base_url="http://qr.test") as client:
        make_code(app, client, "menu")
        assert client.get("/menu", follow_redirects=False).status_code == 302
        assert client.get("/q/menu", follow_redirects=False).status_code == 302
        refused = client.get("/menu", follow_redirects=False)
        assert refused.status_code == 429
        assert refused.headers["retry-after"]
        assert client.head("/menu").status_code == 429
        with sqlite3.connect(app.state.services.settings.db) as conn:
            (scans,) = conn.execute(
                "SELECT COUNT(*) FROM events WHERE type = 'scan.recorded'"
            ).fetchone()
        assert scans == 2
        metrics = client.get("/metrics").text
        assert 'scanlet_rate_limited_total{limit="redirect"} 2.0' in metrics
