"""Codes that are not links in headless Chromium: the new-code form shows the chosen kind's
inputs only, and a static code's edit form changes its content, which its QR image holds."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from tests.e2e.conftest import Site
from tests.e2e.test_dashboard_browser import _console_errors, _css, _sign_in, _wait

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:selenium.*")


def _decoded_png(site: Site, slug: str) -> list[str]:
    """What zxing-cpp reads in the code's PNG, as the API draws it."""
    reply = site.api("GET", f"/api/v1/codes/{slug}/qr?format=png&scale=6")
    assert reply.status_code == 200, reply.text
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(reply.content)))]


def test_a_wifi_code_made_in_the_form_and_its_content_edited(
    browser: Any, site: Site, screenshots: Path
) -> None:
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    _sign_in(browser, site, site.key)
    browser.get(f"{site.base}/dashboard/new")
    assert _css(browser, "#f-target").is_displayed()
    assert not _css(browser, "#content-wifi").is_displayed()
    Select(_css(browser, "#f-kind")).select_by_value("wifi")
    # The chosen kind's inputs appear and the target goes (CSS :has, no script needed).
    _wait(browser, lambda d: _css(d, "#content-wifi").is_displayed())
    assert not _css(browser, "#f-target").is_displayed()
    assert not _css(browser, "#content-vcard").is_displayed()
    _css(browser, "#f-wifi\\.ssid").send_keys("Café Guests")
    _css(browser, "#f-wifi\\.password").send_keys("espresso42")
    _css(browser, "input[name=slug]").send_keys("guests")
    browser.save_screenshot(str(screenshots / "new-wifi-code.png"))
    _css(browser, "form[action='/dashboard/new'] button[type=submit]").click()
    _wait(browser, ec.url_contains("/dashboard/codes/guests?done=created"))
    assert _css(browser, "#qr-url").get_attribute("value") == (
        "WIFI:T:WPA;S:Café Guests;P:espresso42;;"
    )
    assert _decoded_png(site, "guests") == ["WIFI:T:WPA;S:Café Guests;P:espresso42;;"]

    _css(browser, ".page-head a[href='/dashboard/codes/guests/edit']").click()
    _wait(browser, ec.url_contains("/dashboard/codes/guests/edit"))
    ssid = _css(browser, "#f-wifi\\.ssid")
    assert ssid.is_displayed()
    assert ssid.get_attribute("value") == "Café Guests"
    assert browser.find_elements("css selector", "#f-target") == []
    ssid.clear()
    ssid.send_keys("Lobby")
    Select(_css(browser, "#f-wifi\\.security")).select_by_visible_text("nopass")
    _css(browser, "#f-wifi\\.password").clear()
    _css(browser, "#f-wifi\\.hidden").click()
    browser.save_screenshot(str(screenshots / "edit-wifi-code.png"))
    _css(browser, "form[action='/dashboard/codes/guests/edit'] button[type=submit]").click()
    _wait(browser, ec.url_contains("/dashboard/codes/guests?done=updated"))
    payload = "WIFI:T:nopass;S:Lobby;H:true;;"
    assert _css(browser, "#qr-url").get_attribute("value") == payload
    assert _decoded_png(site, "guests") == [payload]
    assert _console_errors(browser) == []


def test_a_refused_edit_shows_the_reason_beside_the_input(browser: Any, site: Site) -> None:
    from selenium.webdriver.support import expected_conditions as ec

    made = site.api(
        "POST",
        "/api/v1/codes",
        json={"kind": "geo", "slug": "spot", "content": {"lat": 52.5, "lng": 13.4}},
    )
    assert made.status_code == 201, made.text
    _sign_in(browser, site, site.key)
    browser.get(f"{site.base}/dashboard/codes/spot/edit")
    lat = _css(browser, "#f-geo\\.lat")
    assert lat.get_attribute("value") == "52.5"
    lat.clear()
    lat.send_keys("95")
    _css(browser, "form[action='/dashboard/codes/spot/edit'] button[type=submit]").click()
    _wait(browser, ec.presence_of_element_located(("css selector", "#f-geo\\.lat-error")))
    assert "<= 90" in _css(browser, "#f-geo\\.lat-error").text
    assert _decoded_png(site, "spot") == ["geo:52.5,13.4"]
    # The browser logs the form's own 422 answer; nothing else may go wrong.
    errors = [entry["message"] for entry in _console_errors(browser)]
    assert [message for message in errors if "/spot/edit" not in message] == []
    assert all("status of 422" in message for message in errors)
