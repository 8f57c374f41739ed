"""``/api/v1/users``: admins manage users, only owners manage owners, the last owner stays,
and a user's keys follow the user (disabled: they stop; demoted: they shrink)."""

from __future__ import annotations

import pytest
import structlog
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import Role
from scanlet.cli import main
from tests.http.accounts import PASSWORD, bearer, make_user, user_key


@pytest.fixture
def owner_key(app: Starlette, client: TestClient) -> str:
    owner = make_user(app, client, "owner@example.com", Role.OWNER)
    return user_key(app, client, owner, Scope.ADMIN)


def test_an_admin_creates_lists_changes_and_deletes_users(
    client: TestClient, owner_key: str
) -> None:
    made = client.post(
        "/api/v1/users",
        json={"email": "Ed@Example.com", "role": "editor", "password": PASSWORD, "tags": ["x"]},
        headers=bearer(owner_key),
    )
    assert made.status_code == 201, made.text
    user = made.json()
    assert user["email"] == "ed@example.com"
    assert set(user) == {"id", "email", "role", "created_at", "disabled", "tags", "domains"}
    assert PASSWORD not in made.text
    assert made.headers["location"] == f"/api/v1/users/{user['id']}"
    listed = client.get("/api/v1/users?limit=1", headers=bearer(owner_key)).json()
    assert [u["email"] for u in listed["items"]] == ["owner@example.com"]
    rest = client.get(
        f"/api/v1/users?cursor={listed['next_cursor']}", headers=bearer(owner_key)
    ).json()
    assert [u["email"] for u in rest["items"]] == ["ed@example.com"]
    assert rest["next_cursor"] is None
    changed = client.patch(
        f"/api/v1/users/{user['id']}",
        json={"role": "viewer", "disabled": True, "tags": []},
        headers=bearer(owner_key),
    )
    assert changed.status_code == 200
    assert (changed.json()["role"], changed.json()["disabled"], changed.json()["tags"]) == (
        "viewer",
        True,
        [],
    )
    assert (
        client.delete(f"/api/v1/users/{user['id']}", headers=bearer(owner_key)).status_code == 204
    )
    gone = client.patch(
        f"/api/v1/users/{user['id']}", json={"role": "viewer"}, headers=bearer(owner_key)
    )
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "role": "viewer"}, "email"),
        ({"email": "a@example.com", "role": "root"}, "role"),
        ({"email": "a@example.com", "role": "viewer", "password": "short"}, "password"),
        ({"email": "a@example.com", "role": "viewer", "password": "x" * 1025}, "password"),
        ({"email": "a@example.com", "role": "viewer", "is_admin": True}, "is_admin"),
        ({"email": "a@example.com", "role": "viewer", "tags": [""]}, "tags"),
        ({"email": "a" * 300 + "@example.com", "role": "viewer"}, "email"),
    ],
)
def test_bad_user_bodies_answer_422_naming_the_field(
    client: TestClient, owner_key: str, body: dict[str, object], field: str
) -> None:
    answer = client.post("/api/v1/users", json=body, headers=bearer(owner_key))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    named = [str(error["loc"]) for error in problem.get("errors", [])] + [problem["detail"]]
    assert any(field in text for text in named), problem
    assert len(client.get("/api/v1/users", headers=bearer(owner_key)).json()["items"]) == 1


def test_a_taken_email_is_409(client: TestClient, owner_key: str) -> None:
    answer = client.post(
        "/api/v1/users",
        json={"email": "OWNER@example.com", "role": "viewer"},
        headers=bearer(owner_key),
    )
    assert answer.status_code == 409


def test_only_an_owner_manages_owners_and_the_last_owner_stays(
    app: Starlette, client: TestClient, owner_key: str
) -> None:
    admin = make_user(app, client, "admin@example.com", Role.ADMIN)
    admin_key = user_key(app, client, admin, Scope.ADMIN)
    owner_id = client.get("/api/v1/users", headers=bearer(owner_key)).json()["items"][0]["id"]
    for method, path, body in [
        ("POST", "/api/v1/users", {"email": "o2@example.com", "role": "owner"}),
        ("PATCH", f"/api/v1/users/{owner_id}", {"disabled": True}),
        ("PATCH", f"/api/v1/users/{admin.id}", {"role": "owner"}),
        ("DELETE", f"/api/v1/users/{owner_id}", None),
    ]:
        answer = client.request(method, path, json=body, headers=bearer(admin_key))
        assert answer.status_code == 403, (method, path, answer.text)
    for body in ({"role": "admin"}, {"disabled": True}):
        answer = client.patch(f"/api/v1/users/{owner_id}", json=body, headers=bearer(owner_key))
        assert answer.status_code == 409
        assert "last owner" in answer.json()["detail"]
    answer = client.delete(f"/api/v1/users/{owner_id}", headers=bearer(owner_key))
    assert answer.status_code == 409
    assert client.get("/api/v1/users", headers=bearer(owner_key)).status_code == 200


@pytest.mark.parametrize("role", [Role.VIEWER, Role.EDITOR])
def test_below_admin_the_users_api_is_403(app: Starlette, client: TestClient, role: Role) -> None:
    user = make_user(app, client, "someone@example.com", role)
    key = user_key(app, client, user, Scope.READ)
    assert client.get("/api/v1/users", headers=bearer(key)).status_code == 403
    answer = client.post(
        "/api/v1/users", json={"email": "x@example.com", "role": "viewer"}, headers=bearer(key)
    )
    assert answer.status_code == 403


def test_a_disabled_users_keys_stop_at_once_and_a_demoted_users_keys_shrink(
    app: Starlette, client: TestClient, owner_key: str
) -> None:
    editor = make_user(app, client, "ed@example.com", Role.EDITOR)
    key = user_key(app, client, editor, Scope.WRITE)
    made = client.post(
        "/api/v1/codes", json={"target": "https://example.com/", "slug": "k1"}, headers=bearer(key)
    )
    assert made.status_code == 201
    client.patch(f"/api/v1/users/{editor.id}", json={"role": "viewer"}, headers=bearer(owner_key))
    refused = client.patch("/api/v1/codes/k1", json={"title": "x"}, headers=bearer(key))
    assert refused.status_code == 403
    assert "viewer" in refused.json()["detail"]
    assert client.get("/api/v1/codes/k1", headers=bearer(key)).status_code == 200
    client.patch(f"/api/v1/users/{editor.id}", json={"disabled": True}, headers=bearer(owner_key))
    assert client.get("/api/v1/codes/k1", headers=bearer(key)).status_code == 401
    client.patch(f"/api/v1/users/{editor.id}", json={"disabled": False}, headers=bearer(owner_key))
    assert client.get("/api/v1/codes/k1", headers=bearer(key)).status_code == 200
    client.delete(f"/api/v1/users/{editor.id}", headers=bearer(owner_key))
    assert client.get("/api/v1/codes/k1", headers=bearer(key)).status_code == 401


def test_a_viewer_changes_nothing_through_the_api(app: Starlette, client: TestClient) -> None:
    viewer = make_user(app, client, "v@example.com", Role.VIEWER)
    key = user_key(app, client, viewer, Scope.READ)
    for method, path, body in [
        ("POST", "/api/v1/codes", {"target": "https://example.com/"}),
        ("PATCH", "/api/v1/codes/x", {"title": "t"}),
        ("DELETE", "/api/v1/codes/x", None),
        ("POST", "/api/v1/webhooks", {"url": "https://example.com/h", "events": ["*"]}),
    ]:
        answer = client.request(method, path, json=body, headers=bearer(key))
        assert answer.status_code == 403, (method, path)


def test_a_server_without_users_says_how_to_create_the_first_owner(app: Starlette) -> None:
    with structlog.testing.capture_logs() as logs, TestClient(app, base_url="http://qr.test"):
        pass
    hints = [entry for entry in logs if "create the first owner" in entry["event"]]
    assert len(hints) == 1
    assert "scanlet users create --email you@example.com --role owner" in hints[0]["event"]
    assert hints[0]["log_level"] == "warning"


def test_a_server_with_an_owner_says_nothing_of_it(app: Starlette, scanlet_db: str) -> None:
    assert main(["users", "create", "--email", "o@example.com", "--role", "owner",
                 "--db", scanlet_db]) == 0  # fmt: skip
    with structlog.testing.capture_logs() as logs, TestClient(app, base_url="http://qr.test"):
        pass
    assert not [entry for entry in logs if "first owner" in entry["event"]]


@pytest.mark.parametrize(
    "body",
    [
        {"role": None},
        {"disabled": "yes"},
        {"password": ""},
        {"tags": "agency-x"},
        {"email": "new@example.com"},
    ],
)
def test_bad_changes_to_a_user_answer_422_and_change_nothing(
    app: Starlette, client: TestClient, owner_key: str, body: dict[str, object]
) -> None:
    ed = make_user(app, client, "ed@example.com", Role.EDITOR)
    answer = client.patch(f"/api/v1/users/{ed.id}", json=body, headers=bearer(owner_key))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    listed = client.get("/api/v1/users", headers=bearer(owner_key)).json()["items"]
    assert [(u["email"], u["role"], u["disabled"], u["tags"]) for u in listed][1] == (
        "ed@example.com",
        "editor",
        False,
        [],
    )
