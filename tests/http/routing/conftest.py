"""An app with analytics on either backend, a clock the tests set, and a trusted proxy in
front (so a test can choose each scan's address and country with headers)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

if TYPE_CHECKING:
    from httpx2 import Response

from scanlet.actors.access.keys import Scope
from scanlet.actors.follower import CATCH_UP
from scanlet.assembly import create_app
from scanlet.assembly.analytics import AnalyticsFeature
from scanlet.clock import FixedClock
from scanlet.config import load_settings
from scanlet.http.app import ScanletApp
from tests.conftest import CATCH_UP_SECONDS

#: A Tuesday, 12:00 UTC (13:00 in Berlin).
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)
ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Mobile/15E148 Safari/604.1"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15"
)
LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


class Api:
    """The running app: create codes, scan them as some visitor, read what was recorded."""

    def __init__(self, app: ScanletApp, client: TestClient, clock: FixedClock) -> None:
        self.app, self.client, self.clock = app, client, clock
        token = client.portal.call(self._mint)  # type: ignore[union-attr]
        self.headers = {"Authorization": f"Bearer {token}"}

    async def _mint(self) -> str:
        keys = self.app.state.services.keys
        return str((await keys.create("t", Scope.WRITE, now=datetime.now(UTC))).token)

    def create(self, **body: Any) -> Response:
        return self.client.post("/api/v1/codes", json=body, headers=self.headers)

    def patch(self, slug: str, **body: Any) -> Response:
        return self.client.patch(f"/api/v1/codes/{slug}", json=body, headers=self.headers)

    def code(self, **body: Any) -> dict[str, Any]:
        made = self.create(**body)
        assert made.status_code == 201, made.text
        result: dict[str, Any] = made.json()
        return result

    def scan(
        self,
        path: str,
        *,
        agent: str = IPHONE,
        ip: str = "203.0.113.7",
        country: str | None = None,
        language: str | None = None,
        traced: bool = False,
    ) -> Response:
        headers = {"user-agent": agent, "x-forwarded-for": ip}
        if country is not None:
            headers["cf-ipcountry"] = country
        if language is not None:
            headers["accept-language"] = language
        if traced:
            headers["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        return self.client.get(path, headers=headers, follow_redirects=False)

    def went(self, path: str, **visitor: Any) -> str:
        """Where a scan was sent (the Location of its redirect)."""
        reply = self.scan(path, **visitor)
        assert reply.status_code in (301, 302, 307, 308), reply.text
        return reply.headers["location"]

    def caught_up(self) -> None:
        ref = self.app.state.services.system.lookup("analytics")
        self.client.portal.call(partial(ref.ask, CATCH_UP, timeout=CATCH_UP_SECONDS))  # type: ignore[union-attr]

    def scans(self, slug: str, expect: int | None = None) -> list[dict[str, Any]]:
        """The code's raw scans, oldest first; with ``expect``, once that many are listed."""
        return self.listed(f"/api/v1/codes/{slug}/scans", expect)

    def listed(self, path: str, expect: int | None = None) -> list[dict[str, Any]]:
        """A raw-scan listing, oldest first; with ``expect``, once that many are listed.

        On PostgreSQL the log is read up to the oldest transaction still open in the whole
        cluster (see ``storage/postgres/eventlog.py``), so a catch-up may stop short while
        another database's transaction runs: the listing is asked again until it is whole.
        """
        for _ in range(400):
            self.caught_up()
            reply = self.client.get(path, params={"limit": 1000}, headers=self.headers)
            assert reply.status_code == 200, reply.text
            items = list(reversed(reply.json()["items"]))
            if expect is None or len(items) >= expect:
                return items
            time.sleep(0.05)
        raise AssertionError(f"{path} lists {len(items)} scans, not {expect}")

    def stats(self, slug: str) -> dict[str, Any]:
        self.caught_up()
        reply = self.client.get(
            f"/api/v1/codes/{slug}/stats",
            params={"from": "2026-11-01T00:00:00Z", "to": "2026-12-31T00:00:00Z"},
            headers=self.headers,
        )
        assert reply.status_code == 200, reply.text
        result: dict[str, Any] = reply.json()
        return result


def start(scanlet_db: str, tmp_path: Path, **env: str) -> Iterator[Api]:
    settings = load_settings(
        {
            "SCANLET_DB": scanlet_db,
            "SCANLET_BASE_URL": "http://qr.test",
            "SCANLET_SECRET_FILE": str(tmp_path / "scanlet.key"),
            "SCANLET_TRUSTED_PROXIES": "10.0.0.0/8",
            "SCANLET_COUNTRY_HEADER": "cf-ipcountry",
            **env,
        },
        isatty=False,
    )
    clock = FixedClock(NOW)
    app = create_app(
        settings, registry=CollectorRegistry(), clock=clock, features=[AnalyticsFeature()]
    )
    with TestClient(app, base_url="http://qr.test", client=("10.0.0.5", 4000)) as client:
        yield Api(app, client, clock)


@pytest.fixture
def api(scanlet_db: str, tmp_path: Path) -> Iterator[Api]:
    yield from start(scanlet_db, tmp_path)
