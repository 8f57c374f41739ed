"""The codes resource: create, list, read, change, delete, with 4xx problems for bad input."""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.assembly import create_app
from scanlet.config import load_settings

PROBLEM = "application/problem+json"


@pytest.fixture
def writer(client: TestClient, mint_key: Callable[[Scope], str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_key(Scope.WRITE)}"}


def test_creating_a_code_returns_the_whole_resource(
    client: TestClient, writer: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/codes",
        json={"target": "https://example.com/menu", "title": "Menu", "tags": ["food", "food"]},
        headers=writer,
    )
    assert response.status_code == 201, response.text
    code = response.json()
    slug = code["slug"]
    assert response.headers["location"] == f"/api/v1/codes/{slug}"
    assert len(slug) == 8
    assert code["target"] == "https://example.com/menu"
    assert code["title"] == "Menu"
    assert code["tags"] == ["food"]
    assert code["enabled"] is True
    assert code["redirect_status"] == 302
    assert code["short_url"] == f"http://qr.test/{slug}"
    assert code["qr_payload"] == f"http://qr.test/q/{slug}"
    # "http://qr.test/q/" and an 8-character slug: 25 bytes, version 2 at M (up to 26).
    assert (code["qr_version"], code["qr_modules"]) == (2, 25)
    assert code["scans"] == 0
    assert code["created_at"].endswith("Z")
    assert set(code) == {
        "slug",
        "domain",
        "target",
        "title",
        "tags",
        "enabled",
        "created_at",
        "updated_at",
        "valid_from",
        "valid_until",
        "max_scans",
        "redirect_status",
        "short_url",
        "qr_payload",
        "qr_version",
        "qr_modules",
        "scans",
        "target_lookalike",
        "fallback_url",
        "rules",
        "split",
        "forward_query",
        "has_password",
        "has_logo",
        "kind",
        "content",
        "tracked",
        "qr_compact",
        "qr_versions_saved",
    }
    assert (code["kind"], code["content"], code["tracked"]) == ("url", None, True)
    # Compact links are off: the usual payload, and what the compact one would save.
    assert code["qr_compact"] is False
    assert code["target_lookalike"] is False
    assert (code["fallback_url"], code["rules"], code["split"]) == (None, [], [])
    assert code["forward_query"] is False
    assert code["has_password"] is False
    assert code["has_logo"] is False
    assert client.get(f"/api/v1/codes/{slug}", headers=writer).json() == code


@pytest.mark.parametrize(
    ("target", "lookalike"),
    [
        ("https://\u0430pple.com/", True),  # "apple" with a Cyrillic a
        ("https://xn--80ak6aa92e.com/", True),  # "apple" all in Cyrillic, as punycode
        ("https://b\u00fccher.de/", False),
        ("https://\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444/", False),
    ],
)
def test_a_lookalike_target_is_accepted_and_flagged(
    client: TestClient, writer: dict[str, str], target: str, lookalike: bool
) -> None:
    created = client.post("/api/v1/codes", json={"target": target}, headers=writer)
    assert created.status_code == 201, created.text
    assert created.json()["target"] == target
    assert created.json()["target_lookalike"] is lookalike
    listed = client.get("/api/v1/codes", headers=writer).json()["items"]
    assert [item["target_lookalike"] for item in listed] == [lookalike]


def test_generated_slugs_are_distinct_and_not_sequential(
    client: TestClient, writer: dict[str, str]
) -> None:
    slugs = [
        client.post("/api/v1/codes", json={"target": "https://e.com"}, headers=writer).json()[
            "slug"
        ]
        for _ in range(20)
    ]
    assert len(set(slugs)) == 20
    assert slugs != sorted(slugs)


def test_a_custom_slug_is_used_and_cannot_be_taken_twice(
    client: TestClient, writer: dict[str, str]
) -> None:
    first = client.post(
        "/api/v1/codes", json={"target": "https://e.com", "slug": "summer-26"}, headers=writer
    )
    assert first.status_code == 201
    assert first.json()["slug"] == "summer-26"
    again = client.post(
        "/api/v1/codes", json={"target": "https://e.com", "slug": "summer-26"}, headers=writer
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert again.json()["errors"] == [{"loc": ["body", "slug"], "msg": "already taken"}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target": "javascript:alert(1)"}, "target"),
        ({"target": "data:text/html,hi"}, "target"),
        ({"target": "https://exa mple.com"}, "target"),
        ({"target": "https://e.com/\x00"}, "target"),
        ({"target": "/relative"}, "target"),
        ({"target": "https://e.com/" + "a" * 2048}, "target"),
        ({"target": "https://e.com", "slug": "has space"}, "slug"),
        ({"target": "https://e.com", "slug": "a" * 65}, "slug"),
        ({"target": "https://e.com", "slug": "api"}, "slug"),
        ({"target": "https://e.com", "slug": "Dashboard"}, "slug"),
        ({"target": "https://e.com", "max_scans": 0}, "max_scans"),
        (
            {
                "target": "https://e.com",
                "valid_from": "2026-02-01T00:00:00Z",
                "valid_until": "2026-01-01T00:00:00Z",
            },
            "valid_until",
        ),
        ({"target": "https://e.com", "valid_from": "2026-02-01T00:00:00"}, "valid_from"),
    ],
)
def test_invalid_codes_are_refused_with_422_naming_the_field(
    client: TestClient, writer: dict[str, str], body: dict[str, object], field: str
) -> None:
    response = client.post("/api/v1/codes", json=body, headers=writer)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422
    assert problem["errors"][0]["loc"] == ["body", field]


@pytest.mark.parametrize(
    "target",
    ["http://qr.test/menu", "http://QR.test./q/menu", "http://qr.test:80/other"],
)
def test_a_target_on_the_servers_own_origin_is_refused_on_create_and_on_change(
    client: TestClient, writer: dict[str, str], target: str
) -> None:
    created = client.post("/api/v1/codes", json={"target": target}, headers=writer)
    assert created.status_code == 422, created.text
    assert created.headers["content-type"] == PROBLEM
    assert created.json()["errors"][0]["loc"] == ["body", "target"]
    assert "http://qr.test" in created.json()["errors"][0]["msg"]
    ok = client.post("/api/v1/codes", json={"target": "https://e.com/"}, headers=writer)
    slug = ok.json()["slug"]
    changed = client.patch(f"/api/v1/codes/{slug}", json={"target": target}, headers=writer)
    assert changed.status_code == 422, changed.text
    assert changed.json()["errors"][0]["loc"] == ["body", "target"]
    assert client.get(f"/api/v1/codes/{slug}", headers=writer).json()["target"] == "https://e.com/"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"target": 5}, ["body", "target"]),
        ({"target": "https://e.com", "redirect_status": 303}, ["body", "redirect_status"]),
        ({"target": "https://e.com", "bogus": 1}, ["body"]),
        ({}, ["body", "target"]),  # a url code needs its target
        ({"target": "https://e.com", "tags": [1]}, ["body", "tags", 0]),
    ],
)
def test_schema_violations_are_422_with_a_location(
    client: TestClient, writer: dict[str, str], body: dict[str, object], loc: list[object]
) -> None:
    response = client.post("/api/v1/codes", json=body, headers=writer)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == loc


def test_malformed_json_is_400_and_other_media_types_are_415(
    client: TestClient, writer: dict[str, str]
) -> None:
    bad = client.post(
        "/api/v1/codes", content=b"{nope", headers={**writer, "content-type": "application/json"}
    )
    assert bad.status_code == 400
    assert bad.headers["content-type"] == PROBLEM
    form = client.post(
        "/api/v1/codes",
        content=b"target=x",
        headers={**writer, "content-type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415


def test_a_body_over_the_limit_is_413(client: TestClient, writer: dict[str, str]) -> None:
    huge = b'{"target": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    response = client.post(
        "/api/v1/codes", content=huge, headers={**writer, "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


def test_a_read_key_cannot_create(client: TestClient, mint_key: Callable[[Scope], str]) -> None:
    reader = {"Authorization": f"Bearer {mint_key(Scope.READ)}"}
    response = client.post("/api/v1/codes", json={"target": "https://e.com"}, headers=reader)
    assert response.status_code == 403


def test_patch_changes_only_the_given_fields(client: TestClient, writer: dict[str, str]) -> None:
    client.post(
        "/api/v1/codes",
        json={"target": "https://e.com", "slug": "p1", "title": "T"},
        headers=writer,
    )
    response = client.patch(
        "/api/v1/codes/p1",
        json={"target": "https://new.example/", "enabled": False},
        headers=writer,
    )
    assert response.status_code == 200, response.text
    code = response.json()
    assert code["target"] == "https://new.example/"
    assert code["enabled"] is False
    assert code["title"] == "T"
    cleared = client.patch("/api/v1/codes/p1", json={"title": None}, headers=writer).json()
    assert cleared["title"] is None
    assert (
        client.patch("/api/v1/codes/p1", json={"target": "ftp://x"}, headers=writer).status_code
        == 422
    )
    assert (
        client.patch("/api/v1/codes/nope", json={"title": "x"}, headers=writer).status_code == 404
    )


def test_valid_times_are_served_in_utc(client: TestClient, writer: dict[str, str]) -> None:
    code = client.post(
        "/api/v1/codes",
        json={"target": "https://e.com", "valid_until": "2030-01-01T01:00:00+01:00"},
        headers=writer,
    ).json()
    assert code["valid_until"] == "2030-01-01T00:00:00Z"


def test_a_deleted_slug_is_gone_and_never_reused(
    client: TestClient, writer: dict[str, str]
) -> None:
    client.post("/api/v1/codes", json={"target": "https://e.com", "slug": "gone"}, headers=writer)
    assert client.delete("/api/v1/codes/gone", headers=writer).status_code == 204
    assert client.get("/api/v1/codes/gone", headers=writer).status_code == 404
    assert client.delete("/api/v1/codes/gone", headers=writer).status_code == 404
    again = client.post(
        "/api/v1/codes", json={"target": "https://e.com", "slug": "gone"}, headers=writer
    )
    assert again.status_code == 409


def test_listing_filters_by_tag_and_text_and_paginates(
    client: TestClient, writer: dict[str, str]
) -> None:
    for i in range(7):
        client.post(
            "/api/v1/codes",
            json={
                "target": f"https://shop.example/item/{i}",
                "slug": f"item-{i}",
                "tags": ["even"] if i % 2 == 0 else ["odd"],
                "title": f"Item {i}",
            },
            headers=writer,
        )
    client.post(
        "/api/v1/codes",
        json={"target": "https://other.example/", "slug": "x_100%".replace("%", "")},
        headers=writer,
    )
    everything = client.get("/api/v1/codes?limit=1000", headers=writer).json()
    assert len(everything["items"]) == 8
    assert everything["next_cursor"] is None
    evens = client.get("/api/v1/codes?tag=even", headers=writer).json()["items"]
    assert sorted(c["slug"] for c in evens) == ["item-0", "item-2", "item-4", "item-6"]
    shop = client.get("/api/v1/codes?q=shop.example", headers=writer).json()["items"]
    assert len(shop) == 7
    assert client.get("/api/v1/codes?q=%25", headers=writer).json()["items"] == []
    seen: list[str] = []
    cursor = None
    while True:
        url = "/api/v1/codes?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=writer).json()
        seen.extend(c["slug"] for c in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(c["slug"] for c in everything["items"])
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=abc", "cursor=%21%21"])
def test_bad_list_parameters_are_422(
    client: TestClient, writer: dict[str, str], query: str
) -> None:
    response = client.get(f"/api/v1/codes?{query}", headers=writer)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["loc"][0] == "query"


def test_a_code_stored_before_its_target_became_own_can_still_be_changed(tmp_path: Path) -> None:
    """The operator moves the server to the origin a code already points at: the code must
    stay manageable (disabled, retitled) while its target is not changed."""
    db = str(tmp_path / "moved.db")

    def app_at(base_url: str) -> Starlette:
        settings = load_settings({"SCANLET_DB": db, "SCANLET_BASE_URL": base_url}, isatty=False)
        return create_app(settings, registry=CollectorRegistry())

    old = app_at("https://old.example")
    with TestClient(old) as client:
        store = old.state.services.keys
        created = client.portal.call(  # type: ignore[union-attr]
            partial(store.create, "w", Scope.WRITE, now=datetime.now(UTC))
        )
        key = created.token
        headers = {"Authorization": f"Bearer {key}"}
        body = {"target": "https://new.example/landing", "slug": "landing"}
        assert client.post("/api/v1/codes", json=body, headers=headers).status_code == 201
    with TestClient(app_at("https://new.example")) as client:
        changed = client.patch(
            "/api/v1/codes/landing", json={"enabled": False, "title": "Loops"}, headers=headers
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["enabled"] is False
        retargeted = client.patch(
            "/api/v1/codes/landing",
            json={"target": "https://new.example/elsewhere"},
            headers=headers,
        )
        assert retargeted.status_code == 422
