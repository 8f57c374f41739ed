"""A real ``scanlet serve`` and one headless Chromium shared by the browser tests.

Debian's ``chromium`` and ``chromium-driver`` drive the tests through Selenium. Without them
the tests skip on a developer's machine, but fail under ``CI=true``: CI installs them
(``.ci/run``), so a missing browser there is a broken set-up, never a silent pass.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import served

CHROMIUM = Path(os.environ.get("SCANLET_E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("SCANLET_E2E_CHROMEDRIVER", "/usr/bin/chromedriver"))


def _browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


def _require_browser() -> None:
    reason = _browser_missing()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests need headless Chromium: {reason}")


@dataclass(frozen=True)
class Site:
    """The running server: its origin, a write-scope key and a read-scope key."""

    base: str
    key: str
    read_key: str
    folder: Path

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An API call with the write key."""
        headers = {"Authorization": f"Bearer {self.key}"}
        return httpx.request(method, f"{self.base}{path}", headers=headers, timeout=10, **kwargs)


def _seed(site: Site) -> None:
    """A code with two weeks of device scans and a few browser scans, for the pages to show."""
    created = site.api(
        "POST",
        "/api/v1/codes",
        json={
            "target": "https://example.com/menu",
            "slug": "poster",
            "title": "Spring menu poster",
            "tags": ["print", "menu"],
        },
    )
    assert created.status_code == 201, created.text
    now = datetime.now(UTC)
    events = [
        {
            "type": "scan",
            "id": str(uuid.uuid4()),
            "slug": "poster",
            "occurred_at": (now - timedelta(days=day, hours=n)).isoformat(),
            "device_id": "door-scanner",
        }
        for day in range(14)
        for n in range((day * 7) % 5 + 1)
    ]
    ingested = site.api("POST", "/api/v1/events", json={"events": events})
    assert ingested.status_code == 200, ingested.text
    agents = [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
    ]
    with httpx.Client() as client:
        for index, agent in enumerate(agents * 2):
            path = "/q/poster" if index % 2 else "/poster"
            headers = {"user-agent": agent}
            if index == 2:
                headers["referer"] = "https://news.example.org/spring"
            assert client.get(f"{site.base}{path}", headers=headers).status_code == 302
        client.get(f"{site.base}/no-such-code", headers={"user-agent": agents[0]})


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """``scanlet serve`` on a free port with a fresh database, a key and a seeded code."""
    _require_browser()
    folder = Path(tempfile.mkdtemp(prefix="scanlet-e2e-"))
    try:
        with served(folder, stop_timeout=15) as running:
            site = Site(running.base, running.key("write"), running.key("read"), folder)
            _seed(site)
            yield site
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def screenshots() -> Path:
    """Where screenshots go: $SCANLET_E2E_SCREENSHOTS, or a fresh temporary folder."""
    chosen = os.environ.get("SCANLET_E2E_SCREENSHOTS")
    folder = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="scanlet-shots-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole module (starting one costs about a second)."""
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="scanlet-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1400",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
