"""Every bad condition, target and weight is a 422 naming the field; nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.routing.conftest import Api

T = "https://example.com/"


def ios(target: str = T, **when: Any) -> dict[str, Any]:
    return {"when": {"os": "ios", **when}, "target": target}


ARM = {"target": T, "weight": 50}
BAD: list[tuple[dict[str, Any], list[str | int]]] = [
    ({"rules": [ios(schedule={"tz": "Mars/Olympus"})]}, ["rules", 0, "when", "schedule", "tz"]),
    ({"rules": [{"when": {"device": "fridge"}, "target": T}]}, ["rules", 0, "when", "device"]),
    ({"rules": [{"when": {"os": "beos"}, "target": T}]}, ["rules", 0, "when", "os"]),
    ({"rules": [ios("javascript:alert(1)")]}, ["rules", 0, "target"]),
    ({"rules": [ios(), ios("http://qr.test/other")]}, ["rules", 1, "target"]),
    ({"rules": [ios("https://user@evil.example/")]}, ["rules", 0, "target"]),
    ({"rules": [{"when": {}, "target": T}]}, ["rules", 0, "when"]),
    ({"rules": [{"when": {"planet": "mars"}, "target": T}]}, ["rules", 0, "when"]),
    ({"rules": [{"target": T}]}, ["rules", 0]),
    ({"rules": [ios()] * 21}, ["rules"]),
    ({"rules": [{"when": {"country": "DEU"}, "target": T}]}, ["rules", 0, "when", "country"]),
    ({"rules": [{"when": {"language": "de_DE"}, "target": T}]}, ["rules", 0, "when", "language"]),
    ({"rules": [{"when": {"query": {}}, "target": T}]}, ["rules", 0, "when", "query"]),
    (
        {"rules": [{"when": {"query": {"a": "x" * 257}}, "target": T}]},
        ["rules", 0, "when", "query"],
    ),
    ({"rules": [ios(schedule={"from": "25:00"})]}, ["rules", 0, "when", "schedule", "from"]),
    ({"rules": [ios(schedule={"to": "9:00"})]}, ["rules", 0, "when", "schedule", "to"]),
    ({"rules": [ios(schedule={"days": ["someday"]})]}, ["rules", 0, "when", "schedule", "days", 0]),
    ({"rules": [ios(schedule={"days": []})]}, ["rules", 0, "when", "schedule", "days"]),
    ({"rules": [ios(schedule={"tz": "UTC"})]}, ["rules", 0, "when", "schedule"]),
    ({"split": [ARM]}, ["split"]),
    ({"split": [ARM, {"target": T, "weight": 0}]}, ["split", 1, "weight"]),
    ({"split": [ARM, {"target": T, "weight": 101}]}, ["split", 1, "weight"]),
    ({"split": [ARM, {"target": "ftp://example.com/", "weight": 1}]}, ["split", 1, "target"]),
    ({"split": [ARM] * 11}, ["split"]),
    ({"fallback_url": "http://qr.test/menu"}, ["fallback_url"]),
    ({"fallback_url": "https://exa mple.com/"}, ["fallback_url"]),
    ({"forward_query": "yes"}, ["forward_query"]),
]


@pytest.mark.parametrize(("body", "loc"), BAD)
def test_a_bad_routing_field_is_a_422_naming_it_on_create_and_on_patch(
    api: Api, body: dict[str, Any], loc: list[str | int]
) -> None:
    created = api.create(target=T, slug="bad", **body)
    assert created.status_code == 422, created.text
    assert created.headers["content-type"] == "application/problem+json"
    assert created.json()["errors"][0]["loc"] == ["body", *loc]
    assert api.scan("/bad").status_code == 404
    api.code(target=T, slug="good")
    patched = api.patch("good", **body)
    assert patched.status_code == 422, patched.text
    assert patched.json()["errors"][0]["loc"] == ["body", *loc]
    assert api.went("/good") == T


def test_a_stored_rule_on_a_url_that_became_own_does_not_block_other_changes(api: Api) -> None:
    api.code(target=T, slug="ok", rules=[ios("https://other.example/")])
    assert api.patch("ok", title="renamed").status_code == 200
