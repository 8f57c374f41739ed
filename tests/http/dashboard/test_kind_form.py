"""The new-code form offers every kind and its content inputs; the codes actor checks them
as it checks the API's, and a refusal is shown next to its input."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from tests.http.dashboard.conftest import SignIn, post_form


def test_the_form_offers_each_kind_and_its_inputs(client: TestClient, sign_in: SignIn) -> None:
    sign_in(Scope.WRITE)
    page = client.get("/dashboard/new").text
    for kind in ("url", "wifi", "vcard", "geo", "sms", "email", "tel", "text"):
        assert f'value="{kind}"' in page
    for name in ("wifi.ssid", "wifi.password", "vcard.name", "geo.lat", "sms.body", "text.text"):
        assert f'name="{name}"' in page
    assert '<select id="f-wifi.security" name="wifi.security">' in page
    assert 'type="checkbox" id="f-wifi.hidden"' in page


def test_a_wifi_code_made_from_the_form(client: TestClient, sign_in: SignIn) -> None:
    sign_in(Scope.WRITE)
    answer = post_form(
        client,
        "/dashboard/new",
        "/dashboard/new",
        kind="wifi",
        slug="guests",
        **{"wifi.ssid": "Guests", "wifi.password": "letmein1", "wifi.security": "WPA"},
        # Another kind's inputs, sent by a browser that shows every fieldset, are ignored.
        **{"text.text": "ignored", "geo.lat": "1"},
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/dashboard/codes/guests").text
    assert "WIFI:T:WPA;S:Guests;P:letmein1;;" in page
    assert 'id="static-note"' in page
    assert 'id="short-url"' not in page
    # Its content changes in the edit form; nothing reaches the server to disable.
    assert 'href="/dashboard/codes/guests/edit"' in page
    assert 'action="/dashboard/codes/guests/enabled"' not in page
    assert '<span class="badge">wifi</span>' in client.get("/dashboard/codes").text


def test_a_bad_content_input_is_shown_next_to_it(client: TestClient, sign_in: SignIn) -> None:
    sign_in(Scope.WRITE)
    answer = post_form(
        client, "/dashboard/new", "/dashboard/new", kind="geo", **{"geo.lat": "91", "geo.lng": "x"}
    )
    assert answer.status_code == 422
    error = re.search(r'<p class="field-error" id="f-geo.lat-error"[^>]*>([^<]*)</p>', answer.text)
    assert error is not None, answer.text
    assert "&lt;= 90" in error.group(1)
    # What was typed stays in the form.
    assert 'name="geo.lat" type="number" step="any" value="91"' in answer.text
    missing = post_form(client, "/dashboard/new", "/dashboard/new", kind="tel")
    assert missing.status_code == 422
    assert 'id="f-tel.number-error"' in missing.text
