"""Signing in with an email and a password: one answer for every failure, the lockout, CSRF
and same-origin checks, and sessions that end on sign-out, a new password or disabling."""

from __future__ import annotations

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.roles import Role
from tests.http.accounts import PASSWORD, bearer, make_user, user_key
from tests.http.dashboard.conftest import csrf_of, post_form

FAILED = "That email and password do not match an active account."


def sign_in(client: TestClient, email: str, password: str, **headers: str) -> httpx2.Response:
    form = client.get("/dashboard/sign-in")
    return client.post(
        "/dashboard/sign-in",
        data={"csrf": csrf_of(form.text), "email": email, "password": password},
        headers=headers,
        follow_redirects=False,
    )


def test_a_user_signs_in_with_email_and_password_and_sees_who_they_are(
    app: Starlette, client: TestClient
) -> None:
    make_user(app, client, "ana@example.com", Role.EDITOR)
    answer = sign_in(client, "Ana@Example.com", PASSWORD)
    assert answer.status_code == 303
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("scanlet_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert PASSWORD not in cookie
    page = client.get("/dashboard/codes")
    assert page.status_code == 200
    assert "ana@example.com" in page.text
    assert "editor" in page.text
    assert "New code" in page.text


@pytest.mark.parametrize("case", ["wrong password", "unknown email", "disabled", "no password"])
def test_every_failed_sign_in_gets_the_same_answer(
    app: Starlette, client: TestClient, case: str
) -> None:
    make_user(app, client, "ana@example.com", Role.EDITOR)
    make_user(app, client, "off@example.com", Role.EDITOR)
    make_user(app, client, "nopw@example.com", Role.EDITOR, password=None)
    owner = make_user(app, client, "own@example.com", Role.OWNER)
    key = user_key(app, client, owner, Scope.ADMIN)
    off = client.get("/api/v1/users", headers=bearer(key)).json()["items"][1]
    client.patch(f"/api/v1/users/{off['id']}", json={"disabled": True}, headers=bearer(key))
    email, password = {
        "wrong password": ("ana@example.com", PASSWORD + "!"),
        "unknown email": ("nobody@example.com", PASSWORD),
        "disabled": ("off@example.com", PASSWORD),
        "no password": ("nopw@example.com", PASSWORD),
    }[case]
    answer = sign_in(client, email, password)
    assert answer.status_code == 401
    assert FAILED in answer.text
    assert "scanlet_session=" not in answer.headers.get("set-cookie", "")
    assert client.get("/dashboard/codes", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("email", "password"),
    [("", ""), ("x" * 5000, "y"), ("ana@example.com", "p" * 5000), ("\x00", "\x00")],
)
def test_odd_sign_in_fields_are_a_failed_sign_in_not_an_error(
    app: Starlette, client: TestClient, email: str, password: str
) -> None:
    make_user(app, client, "ana@example.com", Role.EDITOR)
    answer = sign_in(client, email, password)
    assert answer.status_code == 401
    assert FAILED in answer.text


def test_ten_failures_lock_the_account_and_address_out_without_telling_who_exists(
    app: Starlette, client: TestClient
) -> None:
    make_user(app, client, "ana@example.com", Role.EDITOR)
    for _ in range(10):
        assert sign_in(client, "ana@example.com", "wrong password!").status_code == 401
    locked = sign_in(client, "ana@example.com", PASSWORD)
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "900"
    assert "Too many failed sign-ins" in locked.text
    # Any email from this address now gets the same answer, existing or not.
    for email in ("nobody@example.com", "ana@example.com"):
        again = sign_in(client, email, PASSWORD)
        assert again.status_code == 429
    assert client.get("/dashboard/codes", follow_redirects=False).status_code == 303


def test_the_sign_in_form_needs_its_csrf_token_and_a_same_origin_post(
    app: Starlette, client: TestClient
) -> None:
    make_user(app, client, "ana@example.com", Role.EDITOR)
    client.get("/dashboard/sign-in")
    forged = client.post(
        "/dashboard/sign-in",
        data={"csrf": "forged", "email": "ana@example.com", "password": PASSWORD},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    cross = sign_in(client, "ana@example.com", PASSWORD, **{"sec-fetch-site": "cross-site"})
    assert cross.status_code == 403
    other_origin = sign_in(client, "ana@example.com", PASSWORD, origin="https://evil.example")
    assert other_origin.status_code == 403
    assert client.get("/dashboard/codes", follow_redirects=False).status_code == 303


def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(
    app: Starlette, client: TestClient
) -> None:
    make_user(app, client, "ana@example.com", Role.EDITOR)
    sign_in(client, "ana@example.com", PASSWORD)
    cookie = client.cookies["scanlet_session"]
    out = post_form(client, "/dashboard/sign-out", "/dashboard/codes")
    assert out.status_code == 303
    client.cookies.set("scanlet_session", cookie)
    assert client.get("/dashboard/codes", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("change", [{"password": "a brand new password"}, {"disabled": True}])
def test_a_new_password_or_disabling_ends_the_users_sessions(
    app: Starlette, client: TestClient, change: dict[str, object]
) -> None:
    ana = make_user(app, client, "ana@example.com", Role.EDITOR)
    owner = make_user(app, client, "own@example.com", Role.OWNER)
    key = user_key(app, client, owner, Scope.ADMIN)
    sign_in(client, "ana@example.com", PASSWORD)
    assert client.get("/dashboard/codes", follow_redirects=False).status_code == 200
    assert (
        client.patch(f"/api/v1/users/{ana.id}", json=change, headers=bearer(key)).status_code == 200
    )
    assert client.get("/dashboard/codes", follow_redirects=False).status_code == 303


def test_a_role_change_applies_to_an_open_session_at_once(
    app: Starlette, client: TestClient
) -> None:
    ana = make_user(app, client, "ana@example.com", Role.EDITOR)
    owner = make_user(app, client, "own@example.com", Role.OWNER)
    key = user_key(app, client, owner, Scope.ADMIN)
    sign_in(client, "ana@example.com", PASSWORD)
    assert client.get("/dashboard/new").status_code == 200
    client.patch(f"/api/v1/users/{ana.id}", json={"role": "viewer"}, headers=bearer(key))
    assert client.get("/dashboard/new").status_code == 403
    refused = post_form(
        client, "/dashboard/new", "/dashboard/codes", target="https://example.com/", slug="v1"
    )
    assert refused.status_code == 403
    assert client.get("/api/v1/codes/v1", headers=bearer(key)).status_code == 404


def test_the_first_run_form_says_how_to_create_the_first_owner(client: TestClient) -> None:
    page = client.get("/dashboard/sign-in")
    assert "scanlet users create --email you@example.com --role owner --password-stdin" in page.text
