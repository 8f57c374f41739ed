"""A code's history: who changed what, from which value to which, newest first."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import Role
from tests.http.accounts import bearer, make_user, user_key
from tests.http.conftest import MintKey
from tests.http.dashboard.conftest import post_form
from tests.http.dashboard.test_password_sign_in import sign_in


def test_the_history_shows_who_retargeted_a_code_with_old_and_new_values(
    app: Starlette, client: TestClient, mint_key: MintKey
) -> None:
    ana = make_user(app, client, "ana@example.com", Role.EDITOR)
    ana_key = user_key(app, client, ana, Scope.WRITE)
    make_user(app, client, "bo@example.com", Role.EDITOR)
    made = client.post(
        "/api/v1/codes",
        json={"target": "https://example.com/a", "slug": "menu", "tags": ["x"]},
        headers=bearer(ana_key),
    )
    assert made.status_code == 201
    # Bo retargets it on the dashboard, then a key of nobody's retitles it.
    sign_in(client, "bo@example.com", "correct horse battery")
    saved = post_form(
        client,
        "/dashboard/codes/menu/edit",
        "/dashboard/codes/menu/edit",
        target="https://example.com/b",
        title="",
        tags="x",
    )
    assert saved.status_code == 303
    legacy = mint_key(Scope.WRITE)
    client.patch("/api/v1/codes/menu", json={"title": "Menu"}, headers=bearer(legacy))
    history = client.get("/api/v1/codes/menu/history", headers=bearer(ana_key)).json()
    items = history["items"]
    assert [item["type"] for item in items] == ["code.updated", "code.updated", "code.created"]
    assert items[0]["by"]["kind"] == "key"
    assert items[0]["by"]["name"] == "test-write"
    assert items[0]["changes"] == [{"field": "title", "old": None, "new": "Menu"}]
    assert items[1]["by"] == {"kind": "user", "id": items[1]["by"]["id"], "name": "bo@example.com"}
    assert items[1]["changes"] == [
        {"field": "target", "old": "https://example.com/a", "new": "https://example.com/b"}
    ]
    assert items[2]["by"] == {
        "kind": "key",
        "id": ana_key.split("_")[1],
        "name": "key-ana@example.com",
    }
    assert {"field": "target", "old": None, "new": "https://example.com/a"} in items[2]["changes"]
    assert {"field": "tags", "old": None, "new": ["x"]} in items[2]["changes"]
    assert history["next_cursor"] is None
    # The code page shows the same history.
    page = client.get("/dashboard/codes/menu")
    assert "History" in page.text
    assert "bo@example.com" in page.text
    assert "https://example.com/a" in page.text


def _code_by_a_write_key(client: TestClient, mint_key: MintKey, slug: str, target: str) -> str:
    """A new write key, and a code it made; the key."""
    key = mint_key(Scope.WRITE)
    made = client.post("/api/v1/codes", json={"target": target, "slug": slug}, headers=bearer(key))
    assert made.status_code == 201
    return key


def test_the_history_pages_and_keeps_old_values_across_pages(
    client: TestClient, mint_key: MintKey
) -> None:
    key = _code_by_a_write_key(client, mint_key, "p", "https://example.com/0")
    for n in range(1, 4):
        client.patch(
            "/api/v1/codes/p", json={"target": f"https://example.com/{n}"}, headers=bearer(key)
        )
    first = client.get("/api/v1/codes/p/history?limit=2", headers=bearer(key)).json()
    second = client.get(
        f"/api/v1/codes/p/history?limit=2&cursor={first['next_cursor']}", headers=bearer(key)
    ).json()
    olds = [c["changes"][0]["old"] for c in first["items"] + second["items"]]
    assert olds == ["https://example.com/2", "https://example.com/1", "https://example.com/0", None]
    assert second["next_cursor"] is None
    client.delete("/api/v1/codes/p", headers=bearer(key))
    after = client.get("/api/v1/codes/p/history?limit=1", headers=bearer(key)).json()
    assert after["items"][0]["type"] == "code.deleted"
    assert after["items"][0]["changes"] == []


def test_the_history_shows_routing_and_a_password_only_as_having_one(
    client: TestClient, mint_key: MintKey
) -> None:
    key = _code_by_a_write_key(client, mint_key, "r", "https://example.com/")
    rules = [{"when": {"os": "ios"}, "target": "https://example.com/ios"}]
    for body in ({"rules": rules, "password": "open sesame"}, {"password": "another one"}):
        assert client.patch("/api/v1/codes/r", json=body, headers=bearer(key)).status_code == 200
    items = client.get("/api/v1/codes/r/history", headers=bearer(key)).json()["items"]
    assert items[1]["changes"] == [
        {"field": "rules", "old": [], "new": rules},
        {"field": "has_password", "old": False, "new": True},
    ]
    # A new password: the change is there, the password is not.
    assert items[0]["changes"] == [{"field": "has_password", "old": True, "new": True}]
    assert "sesame" not in str(items)


def test_history_of_an_unknown_code_or_a_bad_cursor_is_a_problem(
    client: TestClient, mint_key: MintKey
) -> None:
    key = mint_key(Scope.READ)
    assert client.get("/api/v1/codes/nope/history", headers=bearer(key)).status_code == 404
    client.post(
        "/api/v1/codes",
        json={"target": "https://example.com/"},
        headers=bearer(mint_key(Scope.WRITE)),
    )
    for query in ("cursor=%%%", "cursor=Zm9v", "limit=0", "limit=1001"):
        slug = client.get("/api/v1/codes", headers=bearer(key)).json()["items"][0]["slug"]
        answer = client.get(f"/api/v1/codes/{slug}/history?{query}", headers=bearer(key))
        assert answer.status_code == 422, query
        assert answer.headers["content-type"] == "application/problem+json"
