"""The dashboard in headless Chromium against a real server: sign in, codes, live scans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Site

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:selenium.*")

XSS_TITLE = "<script>alert(1)</script>"


def _wait(driver: Any, condition: Any, timeout: float = 10.0) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # An element found just before the page is replaced (a reload after an upload) goes
    # stale: look again rather than fail.
    wait = WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(condition)


def _css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def _console_errors(driver: Any) -> list[dict[str, Any]]:
    """Console messages at SEVERE level since the last call (reading empties the log)."""
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _full_page_screenshot(driver: Any, path: Path) -> None:
    """The whole page, not only the window: the window grows to the page for the shot."""
    width, height = driver.get_window_size().values()
    full = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, full + 120)
    driver.save_screenshot(str(path))
    driver.set_window_size(width, height)


def _sign_in(driver: Any, site: Site, key: str) -> None:
    from selenium.webdriver.support import expected_conditions as ec

    driver.delete_all_cookies()
    driver.get(f"{site.base}/dashboard/codes")
    _wait(driver, ec.url_contains("/dashboard/sign-in"))
    # The key sign-in (for automation) is folded under the email and password form.
    _css(driver, "#key-sign-in summary").click()
    _css(driver, "#key").send_keys(key)
    _css(driver, "#key-submit").click()
    _wait(driver, ec.url_to_be(f"{site.base}/dashboard/codes"))


@pytest.fixture(scope="module")
def signed_in(browser: Any, site: Site) -> Any:
    """The shared browser, signed in with the write key."""
    _sign_in(browser, site, site.key)
    return browser


def test_signing_in_with_a_key_sets_a_strict_http_only_session_cookie(
    browser: Any, site: Site, screenshots: Path
) -> None:
    from selenium.webdriver.support import expected_conditions as ec

    browser.delete_all_cookies()
    browser.get(f"{site.base}/dashboard")
    _wait(browser, ec.url_contains("/dashboard/sign-in"))
    browser.save_screenshot(str(screenshots / "sign-in.png"))
    _sign_in(browser, site, site.key)
    cookies = {cookie["name"]: cookie for cookie in browser.get_cookies()}
    session = cookies["scanlet_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert site.key not in session["value"]
    assert site.key not in browser.current_url
    assert _console_errors(browser) == []


def test_the_codes_list_shows_the_code_with_its_qr_image(
    signed_in: Any, site: Site, screenshots: Path
) -> None:
    signed_in.get(f"{site.base}/dashboard/codes")
    row = _css(signed_in, "table.codes tbody tr")
    assert "poster" in row.text
    assert "Spring menu poster" in row.text
    image = _css(signed_in, "table.codes img.thumb")
    _wait(signed_in, lambda d: d.execute_script("return arguments[0].complete", image))
    assert signed_in.execute_script("return arguments[0].naturalWidth", image) > 0
    signed_in.save_screenshot(str(screenshots / "codes.png"))
    assert _console_errors(signed_in) == []


def test_a_code_created_from_the_form_opens_its_page_with_the_title_escaped(
    signed_in: Any, site: Site, screenshots: Path
) -> None:
    from selenium.webdriver.support import expected_conditions as ec

    signed_in.get(f"{site.base}/dashboard/new")
    _css(signed_in, "input[name=target]").send_keys("https://example.com/tickets?row=7&seat=3")
    _css(signed_in, "input[name=title]").send_keys(XSS_TITLE)
    _css(signed_in, "input[name=tags]").send_keys("tickets, <b>bold</b>")
    _css(signed_in, "form[action='/dashboard/new'] button[type=submit]").click()
    _wait(signed_in, ec.url_contains("?done=created"))
    assert _css(signed_in, "h1").text == XSS_TITLE
    assert ec.alert_is_present()(signed_in) is False
    image = _css(signed_in, "#qr-preview")
    _wait(signed_in, lambda d: d.execute_script("return arguments[0].complete", image))
    assert signed_in.execute_script("return arguments[0].naturalWidth", image) > 0
    signed_in.save_screenshot(str(screenshots / "created.png"))
    assert _console_errors(signed_in) == []


def test_a_scan_arrives_on_the_code_page_live(
    signed_in: Any, site: Site, screenshots: Path
) -> None:
    signed_in.get(f"{site.base}/dashboard/codes/poster")
    counter = _css(signed_in, "[data-testid='scan-count']")
    # The stream is open once it has sent the current count (it marks itself "on").
    _wait(signed_in, lambda d: "on" in _css(d, "#live-state").get_attribute("class"))
    before = int(counter.text)
    assert httpx.get(f"{site.base}/poster").status_code == 302
    _wait(signed_in, lambda d: counter.text == str(before + 1))
    signed_in.save_screenshot(str(screenshots / "code.png"))
    _full_page_screenshot(signed_in, screenshots / "code-full.png")
    assert _console_errors(signed_in) == []


def test_a_rule_made_in_the_edit_form_sends_an_iphone_scan_to_its_target(
    signed_in: Any, site: Site, screenshots: Path
) -> None:
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    made = site.api(
        "POST", "/api/v1/codes", json={"target": "https://example.com/", "slug": "ruled"}
    )
    assert made.status_code == 201, made.text
    signed_in.get(f"{site.base}/dashboard/codes/ruled/edit")
    _css(signed_in, "#f-rule-0-target").send_keys("https://example.com/ios-app")
    Select(_css(signed_in, "#f-rule-0-os")).select_by_visible_text("ios")
    _css(signed_in, "form[action='/dashboard/codes/ruled/edit'] button[type=submit]").click()
    _wait(signed_in, ec.url_contains("?done=updated"))
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
    )
    scanned = httpx.get(f"{site.base}/ruled", headers={"user-agent": iphone})
    assert (scanned.status_code, scanned.headers["location"]) == (
        302,
        "https://example.com/ios-app",
    )
    desktop = httpx.get(f"{site.base}/ruled", headers={"user-agent": "Mozilla/5.0 (X11; Linux)"})
    assert desktop.headers["location"] == "https://example.com/"
    # The form shows the stored rule back, with a way to remove it.
    signed_in.get(f"{site.base}/dashboard/codes/ruled/edit")
    assert (
        _css(signed_in, "#f-rule-0-target").get_attribute("value") == "https://example.com/ios-app"
    )
    assert Select(_css(signed_in, "#f-rule-0-os")).first_selected_option.text == "ios"
    signed_in.save_screenshot(str(screenshots / "rule-form.png"))
    assert _console_errors(signed_in) == []


def test_the_qr_preview_and_downloads_follow_the_options(signed_in: Any, site: Site) -> None:
    from selenium.webdriver.support.ui import Select

    signed_in.get(f"{site.base}/dashboard/codes/poster")
    Select(_css(signed_in, "select[name=ecc]")).select_by_value("H")
    _wait(signed_in, lambda d: "ecc=H" in _css(d, "#qr-preview").get_attribute("src"))
    assert "format=png" in _css(signed_in, "#download-png").get_attribute("href")
    assert "ecc=H" in _css(signed_in, "#download-png").get_attribute("href")
    png = httpx.get(
        _css(signed_in, "#download-png").get_attribute("href"),
        cookies={"scanlet_session": signed_in.get_cookie("scanlet_session")["value"]},
    )
    assert png.headers["content-type"] == "image/png"
    assert _console_errors(signed_in) == []


def _logo_png(path: Path) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (120, 120), "white")
    ImageDraw.Draw(image).ellipse((4, 4, 115, 115), fill="#c62828")
    image.save(path, "PNG")
    return path


def _preview_loaded(driver: Any) -> bool:
    return bool(
        driver.execute_script(
            "var i = document.getElementById('qr-preview');"
            " return i.complete && i.naturalWidth > 0;"
        )
    )


def test_the_design_panel_uploads_a_logo_previews_options_and_downloads_a_pdf(
    signed_in: Any, site: Site, screenshots: Path
) -> None:
    from selenium.webdriver.support.ui import Select

    signed_in.get(f"{site.base}/dashboard/codes/poster")
    _css(signed_in, "#logo-file").send_keys(str(_logo_png(site.folder / "logo.png")))
    _css(signed_in, "#logo-upload").click()
    # The page comes back with the logo ticked, and the preview draws it.
    _wait(signed_in, lambda d: "logo=true" in d.current_url)
    _wait(signed_in, lambda d: d.execute_script("return document.readyState") == "complete")
    _wait(signed_in, lambda d: "logo=true" in _css(d, "#qr-preview").get_attribute("src"))
    assert _css(signed_in, "input[name=logo]").is_selected()
    _wait(signed_in, _preview_loaded)
    with_logo = _css(signed_in, "#qr-preview").get_attribute("src")

    Select(_css(signed_in, "select[name=shape]")).select_by_value("dots")
    _wait(signed_in, lambda d: _css(d, "#qr-preview").get_attribute("src") != with_logo)
    src = _css(signed_in, "#qr-preview").get_attribute("src")
    assert "shape=dots" in src
    assert "logo=true" in src
    _wait(signed_in, _preview_loaded)

    size = _css(signed_in, "input[name=size_value]")
    size.clear()
    size.send_keys("30")
    Select(_css(signed_in, "select[name=format]")).select_by_value("pdf")
    _wait(signed_in, lambda d: "size=30mm" in _css(d, "#download-pdf").get_attribute("href"))
    assert "format=svg" in _css(signed_in, "#qr-preview").get_attribute("src")  # PDF: as SVG
    _wait(signed_in, _preview_loaded)
    signed_in.save_screenshot(str(screenshots / "design-panel.png"))

    # The PDF download, fetched by the page itself with its session, is a PDF.
    href = _css(signed_in, "#download-pdf").get_attribute("href")
    head = signed_in.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        " fetch(arguments[0], {credentials: 'same-origin'}).then(function (r) {"
        "   return r.arrayBuffer().then(function (b) {"
        "     done([r.status, r.headers.get('content-type'),"
        "           r.headers.get('content-disposition'),"
        "           String.fromCharCode.apply(null, new Uint8Array(b.slice(0, 5)))]);"
        "   });"
        " });",
        href,
    )
    assert head == [200, "application/pdf", 'attachment; filename="poster.pdf"', "%PDF-"]
    assert _console_errors(signed_in) == []
    # Back to no logo for the other tests of the module.
    assert site.api("DELETE", "/api/v1/codes/poster/logo").status_code == 204


def test_the_overview_shows_totals_chart_top_codes_and_orphans(
    signed_in: Any, site: Site, screenshots: Path
) -> None:
    signed_in.get(f"{site.base}/dashboard")
    assert int(_css(signed_in, "[data-testid='total-scans']").text) > 0
    assert _css(signed_in, "svg.chart title").get_attribute("textContent")
    assert "poster" in _css(signed_in, "main").text
    assert "no-such-code" in _css(signed_in, "main").text
    signed_in.save_screenshot(str(screenshots / "overview.png"))
    assert _console_errors(signed_in) == []


def test_a_read_key_sees_codes_but_no_way_to_change_them(browser: Any, site: Site) -> None:
    _sign_in(browser, site, site.read_key)
    browser.get(f"{site.base}/dashboard/codes/poster")
    assert _css(browser, "[data-testid='scan-count']").text.isdigit()
    assert "Edit" not in _css(browser, ".page-head").text
    assert browser.find_elements("css selector", "a[href='/dashboard/new']") == []
    assert _console_errors(browser) == []
