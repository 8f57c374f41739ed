"""The code form's routing section: rules, split, fallback, forwarding and password rows
become the same commands the API takes, refusals shown on the form."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from tests.http.dashboard.conftest import SignIn, api_code, api_create, post_form

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
EDIT = "/dashboard/codes/menu/edit"
BASE = {"target": "https://example.com/", "title": "", "tags": ""}


def code(client: TestClient, key: str) -> dict[str, Any]:
    return api_code(client, key, "menu")


def test_rules_split_fallback_forwarding_and_password_are_edited_in_the_form(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/", slug="menu")
    saved = post_form(
        client,
        EDIT,
        EDIT,
        **BASE,
        fallback_url="https://example.com/over",
        forward_query="on",
        password="open sesame",
        **{
            "rule-0-order": "2",
            "rule-0-target": "https://example.com/de",
            "rule-0-language": "de",
            "rule-1-order": "1",
            "rule-1-target": "https://example.com/ios",
            "rule-1-os": "ios",
            "rule-1-tz": "Europe/Berlin",
            "rule-1-days": "mon, tue wed",
            "rule-1-from": "08:00",
            "rule-1-to": "20:00",
            "arm-0-target": "https://example.com/a",
            "arm-0-weight": "30",
            "arm-1-target": "https://example.com/b",
            "arm-1-weight": "70",
        },
    )
    assert saved.status_code == 303, saved.text
    stored = code(client, key)
    assert stored["fallback_url"] == "https://example.com/over"
    assert stored["forward_query"] is True
    assert stored["has_password"] is True
    # Reordered by the order numbers.
    assert stored["rules"] == [
        {
            "when": {
                "os": "ios",
                "schedule": {
                    "tz": "Europe/Berlin",
                    "days": ["mon", "tue", "wed"],
                    "from": "08:00",
                    "to": "20:00",
                },
            },
            "target": "https://example.com/ios",
        },
        {"when": {"language": "de"}, "target": "https://example.com/de"},
    ]
    assert [arm["weight"] for arm in stored["split"]] == [30, 70]
    page = client.get(EDIT).text
    assert 'value="https://example.com/ios"' in page
    assert "open sesame" not in page
    # Removing a rule, an arm and the password; an empty target drops a row too.
    removed = post_form(
        client,
        EDIT,
        EDIT,
        **BASE,
        remove_password="on",
        **{
            "rule-0-target": "https://example.com/ios",
            "rule-0-os": "ios",
            "rule-0-remove": "on",
            "rule-1-target": "https://example.com/de",
            "rule-1-language": "de",
        },
    )
    assert removed.status_code == 303
    stored = code(client, key)
    assert [rule["target"] for rule in stored["rules"]] == ["https://example.com/de"]
    assert stored["split"] == []
    assert stored["has_password"] is False
    assert stored["fallback_url"] is None
    assert stored["forward_query"] is False


def test_a_refused_rule_shows_the_form_again_naming_the_field(
    client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    api_create(client, key, target="https://example.com/", slug="menu")
    for fields, named in (
        (
            {
                "rule-0-target": "https://example.com/x",
                "rule-0-tz": "Mars/Olympus",
                "rule-0-days": "mon",
            },
            "rules[0].when.schedule.tz",
        ),
        ({"rule-0-target": "https://example.com/x", "rule-0-device": "fridge"}, "rules[0].when"),
        ({"rule-0-target": "javascript:alert(1)", "rule-0-os": "ios"}, "rules[0].target"),
        ({"arm-0-target": "https://example.com/a", "arm-0-weight": "0"}, "split[0].weight"),
        ({"arm-0-target": "https://example.com/a", "arm-0-weight": "50"}, "split"),
    ):
        refused = post_form(client, EDIT, EDIT, **BASE, **fields)
        assert refused.status_code == 422, fields
        assert named in refused.text, (named, refused.text)
        # What was typed stays in the form.
        first = next(iter(fields.values()))
        assert first.replace("&", "&amp;") in refused.text
    assert code(client, key)["rules"] == []
