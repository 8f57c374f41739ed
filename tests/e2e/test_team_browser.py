"""A team member in headless Chromium: signs in with email and password, creates a code,
signs out, and the cookie they had no longer opens anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import Site
from tests.e2e.test_dashboard_browser import _console_errors, _css, _wait

EMAIL = "marketer@example.com"
PASSWORD = "spring campaign 2026"


def _create_user(site: Site) -> None:
    """``scanlet users create`` as an operator runs it, the password on standard input."""
    subprocess.run(
        [sys.executable, "-m", "scanlet", "users", "create", "--email", EMAIL,
         "--role", "editor", "--password-stdin"],
        cwd=site.folder,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )  # fmt: skip


def test_a_user_signs_in_creates_a_code_signs_out_and_the_old_cookie_is_dead(
    browser: Any, site: Site, screenshots: Path
) -> None:
    from selenium.webdriver.support import expected_conditions as ec

    _create_user(site)
    browser.delete_all_cookies()
    browser.get(f"{site.base}/dashboard/codes")
    _wait(browser, ec.url_contains("/dashboard/sign-in"))
    _css(browser, "#email").send_keys(EMAIL)
    _css(browser, "#password").send_keys(PASSWORD)
    browser.save_screenshot(str(screenshots / "sign-in-password.png"))
    _css(browser, "#sign-in-submit").click()
    _wait(browser, ec.url_to_be(f"{site.base}/dashboard/codes"))
    assert EMAIL in _css(browser, "header").text

    browser.get(f"{site.base}/dashboard/new")
    _css(browser, "input[name=target]").send_keys("https://example.com/team")
    _css(browser, "input[name=slug]").send_keys("team-flyer")
    _css(browser, "form[action='/dashboard/new'] button[type=submit]").click()
    _wait(browser, ec.url_contains("/dashboard/codes/team-flyer?done=created"))
    history = _css(browser, "#history").text
    assert EMAIL in history
    assert "https://example.com/team" in history
    browser.save_screenshot(str(screenshots / "team-created.png"))

    cookie = browser.get_cookie("scanlet_session")["value"]
    _css(browser, "form[action='/dashboard/sign-out'] button").click()
    _wait(browser, ec.url_contains("/dashboard/sign-in?done=signed-out"))
    # The cookie as it was, sent again by another client and by the browser itself.
    stale = httpx.get(
        f"{site.base}/dashboard/codes", cookies={"scanlet_session": cookie}, timeout=10
    )
    assert stale.status_code == 303
    assert stale.headers["location"].startswith("/dashboard/sign-in")
    browser.add_cookie({"name": "scanlet_session", "value": cookie, "path": "/"})
    browser.get(f"{site.base}/dashboard/codes")
    _wait(browser, ec.url_contains("/dashboard/sign-in"))
    assert _console_errors(browser) == []
