"""The edit form of a code that is not a link: its own kind's content inputs, filled with what
it holds, saved through the codes actor (the API's rules), a refusal shown next to its
input; no target and no routing. And a tracked card made from the new-code form."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from tests.http.dashboard.conftest import SignIn, api_code, api_create, post_form

EDIT = "/dashboard/codes/{}/edit"


def test_the_edit_form_of_a_wifi_code_shows_its_content_and_no_target(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    content = {"ssid": 'Café "<b>"', "password": "espresso42", "hidden": True}
    api_create(client, key, kind="wifi", slug="guests", title="Lobby", content=content)
    page = client.get(EDIT.format("guests"))
    assert page.status_code == 200
    html = page.text
    assert 'id="content-wifi"' in html
    # Only its own kind's inputs: a kind never changes.
    assert 'id="content-geo"' not in html
    assert 'name="kind"' not in html
    assert 'name="target"' not in html
    assert 'id="routing"' not in html
    # Filled with what it holds, escaped (the SSID is user input).
    assert 'name="wifi.ssid" type="text" value="Café &#34;&lt;b&gt;&#34;"' in html
    assert 'name="wifi.password" type="text" value="espresso42"' in html
    assert "<option selected>WPA</option>" in html
    assert 'id="f-wifi.hidden" name="wifi.hidden" checked' in html
    assert 'name="title" type="text" value="Lobby"' in html


def test_saving_the_form_changes_the_content_and_the_qr_payload(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, kind="wifi", slug="guests", content={"ssid": "Old", "password": "p1"})
    answer = post_form(
        client,
        EDIT.format("guests"),
        EDIT.format("guests"),
        title="Lobby",
        tags="hotel, print",
        **{"wifi.ssid": "New; net", "wifi.password": "letmein1", "wifi.security": "WPA"},
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/dashboard/codes/guests?done=updated"
    code = api_code(client, key, "guests")
    assert code["qr_payload"] == "WIFI:T:WPA;S:New\\; net;P:letmein1;;"
    assert (code["title"], code["tags"]) == ("Lobby", ["hotel", "print"])
    assert code["content"]["hidden"] is False  # the box was left unticked
    assert "WIFI:T:WPA;S:New\\; net;P:letmein1;;" in client.get("/dashboard/codes/guests").text


def test_a_tracked_card_keeps_what_the_form_does_not_show(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(
        client,
        key,
        kind="vcard",
        tracked=True,
        slug="jane",
        content={"name": "Jane Doe"},
        fallback_url="https://example.com/over",
        max_scans=5,
    )
    html = client.get(EDIT.format("jane")).text
    assert 'name="vcard.name" type="text" value="Jane Doe"' in html
    answer = post_form(
        client,
        EDIT.format("jane"),
        EDIT.format("jane"),
        **{"vcard.name": "Jane Q. Doe", "vcard.email": "jane@example.com"},
    )
    assert answer.status_code == 303, answer.text
    code = api_code(client, key, "jane")
    assert code["content"] == {
        "name": "Jane Q. Doe",
        "org": None,
        "title": None,
        "phone": None,
        "email": "jane@example.com",
        "url": None,
        "address": None,
    }
    assert (code["fallback_url"], code["max_scans"], code["tracked"]) == (
        "https://example.com/over",
        5,
        True,
    )


def test_a_refused_content_input_is_shown_next_to_it_and_nothing_changes(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, kind="geo", slug="spot", content={"lat": 52.5, "lng": 13.4})
    answer = post_form(
        client,
        EDIT.format("spot"),
        EDIT.format("spot"),
        # A kind posted by a hostile form is not read: the code's own kind is.
        kind="text",
        **{"geo.lat": "-91", "geo.lng": "13.4", "text.text": "ignored"},
    )
    assert answer.status_code == 422
    error = re.search(r'<p class="field-error" id="f-geo.lat-error"[^>]*>([^<]*)</p>', answer.text)
    assert error is not None, answer.text
    assert "&gt;= -90" in error.group(1)
    assert 'name="geo.lat" type="number" step="any" value="-91"' in answer.text
    missing = post_form(client, EDIT.format("spot"), EDIT.format("spot"), **{"geo.lng": "1"})
    assert missing.status_code == 422
    assert 'id="f-geo.lat-error"' in missing.text
    code = api_code(client, key, "spot")
    assert code["qr_payload"] == "geo:52.5,13.4"


def test_a_content_too_long_for_a_qr_code_is_shown_in_the_form(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, kind="text", slug="note", content={"text": "short"})
    answer = post_form(client, EDIT.format("note"), EDIT.format("note"), **{"text.text": "é" * 300})
    assert answer.status_code == 422
    assert re.search(r'id="f-kind-error"[^>]*>is too long for a QR code', answer.text)


def test_a_read_key_cannot_change_content(client: TestClient, sign_in: SignIn) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, kind="tel", slug="call", content={"number": "+1 555"})
    sign_in(Scope.READ)
    page = client.get("/dashboard/codes/call").text
    assert 'href="/dashboard/codes/call/edit"' not in page
    answer = post_form(
        client, EDIT.format("call"), "/dashboard/codes/call", **{"tel.number": "+1 666"}
    )
    assert answer.status_code == 403
    code = api_code(client, key, "call")
    assert code["qr_payload"] == "tel:+1555"


def test_a_tracked_card_made_from_the_new_code_form(client: TestClient, sign_in: SignIn) -> None:
    key = sign_in(Scope.WRITE)
    # The box of another kind's fieldset is not read: a text code is never tracked.
    for kind, slug, tracked in (("vcard", "card", True), ("text", "plain", False)):
        inputs = {"vcard.name": "Jane Doe", "text.text": "hello"}
        answer = post_form(
            client, "/dashboard/new", "/dashboard/new", kind=kind, slug=slug, tracked="on", **inputs
        )
        assert answer.status_code == 303, answer.text
        code = api_code(client, key, slug)
        assert code["tracked"] is tracked
        assert code["short_url"] == (f"http://qr.test/{slug}" if tracked else None)


def test_content_is_escaped_in_the_edit_form(client: TestClient, sign_in: SignIn) -> None:
    key = sign_in(Scope.WRITE)
    hostile = '</textarea><script>alert(1)</script>"'
    api_create(client, key, kind="text", slug="note", content={"text": hostile})
    html = client.get(EDIT.format("note")).text
    assert "<script>alert(1)" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#34;</textarea>" in html


def test_the_new_form_chooses_wpa_unless_told_otherwise(
    client: TestClient, sign_in: SignIn
) -> None:
    sign_in(Scope.WRITE)
    page = client.get("/dashboard/new").text
    # A browser sends the first option when none is marked: the API's default leads.
    assert '<select id="f-wifi.security" name="wifi.security"><option>WPA</option>' in page
