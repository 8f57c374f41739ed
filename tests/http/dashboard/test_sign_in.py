"""Signing in and out: the session cookie, CSRF on the form, and keys re-checked each time."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope, split_token
from scanlet.http.dashboard.auth_views import safe_next
from tests.http.conftest import MintKey
from tests.http.dashboard.conftest import SignIn, csrf_of, post_form


def test_a_page_without_a_session_redirects_to_the_sign_in_form(client: TestClient) -> None:
    answer = client.get("/dashboard/codes?q=menu", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard/sign-in?next=%2Fdashboard%2Fcodes%3Fq%3Dmenu"
    form = client.get(answer.headers["location"])
    assert form.status_code == 200
    assert form.headers["content-type"].startswith("text/html")
    assert 'value="/dashboard/codes?q=menu"' in form.text


def test_signing_in_sets_a_signed_http_only_strict_cookie_without_the_key(
    client: TestClient, mint_key: MintKey
) -> None:
    key = mint_key(Scope.READ)
    form = client.get("/dashboard/sign-in")
    answer = client.post(
        "/dashboard/sign-in",
        data={"csrf": csrf_of(form.text), "key": key, "next": "/dashboard/codes"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard/codes"
    cookie = next(
        c for c in answer.headers.get_list("set-cookie") if c.startswith("scanlet_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    parts = split_token(key)
    assert parts is not None
    assert parts[1] not in cookie  # the whole secret: it may itself contain "_"
    assert client.get("/dashboard/codes").status_code == 200


def test_a_wrong_key_shows_the_form_again_with_the_error(client: TestClient) -> None:
    form = client.get("/dashboard/sign-in")
    answer = client.post(
        "/dashboard/sign-in", data={"csrf": csrf_of(form.text), "key": "slk_nope_nope"}
    )
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("text/html")
    assert "not valid, has expired or was revoked" in answer.text
    assert "scanlet_session" not in answer.headers.get("set-cookie", "")


def test_the_sign_in_form_needs_its_csrf_token(client: TestClient, mint_key: MintKey) -> None:
    key = mint_key(Scope.WRITE)
    client.get("/dashboard/sign-in")
    answer = client.post("/dashboard/sign-in", data={"csrf": "forged", "key": key})
    assert answer.status_code == 403
    assert "scanlet_session" not in answer.headers.get("set-cookie", "")


def test_a_post_from_another_site_is_refused_even_with_a_token(
    client: TestClient, sign_in: SignIn
) -> None:
    sign_in(Scope.WRITE)
    page = client.get("/dashboard/new").text
    answer = client.post(
        "/dashboard/new",
        data={"csrf": csrf_of(page), "target": "https://example.com/"},
        headers={"sec-fetch-site": "cross-site", "origin": "https://evil.example"},
    )
    assert answer.status_code == 403


def test_after_signing_in_only_dashboard_paths_are_followed(
    client: TestClient, mint_key: MintKey
) -> None:
    key = mint_key(Scope.READ)
    for target in ("//evil.example/", "https://evil.example/", "/api/v1/codes", "/\\evil"):
        client.cookies.clear()
        form = client.get("/dashboard/sign-in")
        answer = client.post(
            "/dashboard/sign-in",
            data={"csrf": csrf_of(form.text), "key": key, "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/dashboard", target


@pytest.mark.parametrize(
    "target",
    [
        "/dashboard/../menu",
        "/dashboard/%2e%2e/menu",
        "/dashboard/%2E%2E/menu",
        "/dashboard/.%2e/menu",
        "/dashboard/codes/../../menu",
        "/dashboard/..%2fmenu",
        "/dashboard/%2e%2e%2f%2e%2e%2fmenu",
        "/dashboard/./../menu?x=1",
        "/dashboardmenu",
        "/dashboard/..%5cmenu",
        "/dashboard/%0d%0aSet-Cookie:x=1",
        "",
        "dashboard",
    ],
)
def test_safe_next_refuses_a_path_that_leaves_the_dashboard_once_normalised(
    target: str,
) -> None:
    assert safe_next(target) == "/dashboard"


@pytest.mark.parametrize(
    ("target", "normalised"),
    [
        ("/dashboard", "/dashboard"),
        ("/dashboard/", "/dashboard"),
        ("/dashboard/codes?q=menu&tag=a%20b", "/dashboard/codes?q=menu&tag=a%20b"),
        ("/dashboard//codes", "/dashboard/codes"),
        ("/dashboard/./codes", "/dashboard/codes"),
        ("/dashboard/codes/../new", "/dashboard/new"),
        ("/dashboard/codes/%2e%2e/new", "/dashboard/new"),
        ("/dashboard/codes/caf%C3%A9", "/dashboard/codes/caf%C3%A9"),
        ("/dashboard/codes#top", "/dashboard/codes"),
    ],
)
def test_safe_next_follows_a_dashboard_path_in_its_normal_form(
    target: str, normalised: str
) -> None:
    assert safe_next(target) == normalised


def test_after_signing_in_a_dot_segment_cannot_climb_out_of_the_dashboard(
    client: TestClient, mint_key: MintKey
) -> None:
    key = mint_key(Scope.READ)
    form = client.get("/dashboard/sign-in?next=%2Fdashboard%2F%252e%252e%2Fmenu")
    assert 'name="next" value="/dashboard"' in form.text
    answer = client.post(
        "/dashboard/sign-in",
        data={"csrf": csrf_of(form.text), "key": key, "next": "/dashboard/%2e%2e/menu"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/dashboard"


def test_a_revoked_key_ends_its_sessions_at_once(
    app: Starlette, client: TestClient, sign_in: SignIn
) -> None:
    key = sign_in(Scope.WRITE)
    assert client.get("/dashboard/codes").status_code == 200
    parts = split_token(key)
    assert parts is not None
    store = app.state.services.keys
    client.portal.call(partial(store.revoke, parts[0], now=datetime.now(UTC)))  # type: ignore[union-attr]
    answer = client.get("/dashboard/codes", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/dashboard/sign-in")


def test_a_tampered_cookie_is_no_session(client: TestClient, sign_in: SignIn) -> None:
    sign_in(Scope.WRITE)
    value = client.cookies["scanlet_session"]
    client.cookies.clear()
    client.cookies.set("scanlet_session", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_signing_out_clears_the_cookie(client: TestClient, sign_in: SignIn) -> None:
    sign_in(Scope.READ)
    answer = post_form(client, "/dashboard/sign-out", "/dashboard")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard/sign-in?done=signed-out"
    assert 'scanlet_session=""' in answer.headers["set-cookie"]
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    assert "You are signed out." in client.get("/dashboard/sign-in?done=signed-out").text


def test_signing_out_ends_the_session_for_a_copied_cookie_too(
    client: TestClient, sign_in: SignIn
) -> None:
    sign_in(Scope.ADMIN)
    copied = client.cookies["scanlet_session"]
    assert post_form(client, "/dashboard/sign-out", "/dashboard").status_code == 303
    client.cookies.clear()
    client.cookies.set("scanlet_session", copied)
    answer = client.get("/dashboard/codes", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/dashboard/sign-in")
    assert client.get("/dashboard/stream?slug=x").status_code == 401


def test_signing_in_again_ends_the_session_the_browser_had(
    client: TestClient, mint_key: MintKey
) -> None:
    # Two tabs opened the form; the first signs in, then the second with another key.
    form = client.get("/dashboard/sign-in")
    nonce, csrf = client.cookies["scanlet_login"], csrf_of(form.text)
    for scope in (Scope.READ, Scope.WRITE):
        client.cookies.set("scanlet_login", nonce)
        answer = client.post(
            "/dashboard/sign-in",
            data={"csrf": csrf, "key": mint_key(scope)},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        if scope is Scope.READ:
            first = client.cookies["scanlet_session"]
    assert client.cookies["scanlet_session"] != first
    assert client.get("/dashboard/new", follow_redirects=False).status_code == 200
    client.cookies.clear()
    client.cookies.set("scanlet_session", first)
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
