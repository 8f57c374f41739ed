"""Sessions and CSRF tokens: a random token whose hash is stored, form tokens keyed by the
server key file; nothing in the database (or a backup) makes a cookie or a form token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope, split_token
from scanlet.assembly import create_app
from scanlet.config import load_settings
from scanlet.http.dashboard.session import FormTokens
from scanlet.storage.server_key import ServerKey
from tests.dbquery import query
from tests.http.dashboard.conftest import SignIn, csrf_of, post_form

FORMS = FormTokens(b"k" * 32)


def test_form_tokens_are_bound_to_their_nonce_and_purpose() -> None:
    token = FORMS.token("nonce-a")
    assert FORMS.check("nonce-a", token)
    assert not FORMS.check("nonce-b", token)
    assert not FORMS.check("nonce-a", token, "login")
    assert not FORMS.check("nonce-a", None)


def test_form_tokens_are_keyed_by_the_server_key() -> None:
    first = FormTokens.from_server_key(ServerKey(b"a" * 32))
    assert first.token("n") == FormTokens.from_server_key(ServerKey(b"a" * 32)).token("n")
    assert first.token("n") != FormTokens.from_server_key(ServerKey(b"b" * 32)).token("n")


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def old_style_cookie(secret: bytes, key_id: str, issued: int) -> str:
    """A cookie as the signed-cookie sessions made them before #12."""
    payload = json.dumps({"k": key_id, "n": "nonce", "t": issued}).encode()
    mac = hmac.new(secret, b"session|" + payload, hashlib.sha256).digest()
    return f"{b64(payload)}.{b64(mac)}"


def database_contents(app: Starlette) -> tuple[list[bytes], list[bytes]]:
    """What reading the database gives: stored session hashes and every stored secret."""
    settings = app.state.services.settings
    hashes = [bytes(r[0]) for r in query(settings, "SELECT token_hash FROM dashboard_sessions")]
    secrets = [bytes(r[0]) for r in query(settings, "SELECT value FROM server_secrets")]
    return hashes, secrets


def signed_in(client: TestClient) -> bool:
    return client.get("/dashboard", follow_redirects=False).status_code == 200


def test_no_cookie_made_from_the_database_is_a_session(
    app: Starlette, client: TestClient, sign_in: SignIn
) -> None:
    parts = split_token(sign_in(Scope.ADMIN))
    assert parts is not None
    key_id = parts[0]
    hashes, secrets = database_contents(app)
    assert len(hashes) == 1
    forged = [h.hex() for h in hashes] + [b64(h) for h in hashes]
    forged += [old_style_cookie(secret, key_id, int(time.time())) for secret in secrets]
    for value in forged:
        client.cookies.clear()
        client.cookies.set("scanlet_session", value)
        assert not signed_in(client), value


def test_no_form_token_made_from_the_database_is_accepted(
    app: Starlette, client: TestClient, sign_in: SignIn
) -> None:
    sign_in(Scope.WRITE)
    hashes, secrets = database_contents(app)
    session_id = hashes[0].hex()
    for secret in [*secrets, *hashes]:
        token = FormTokens(secret).token(session_id)
        answer = client.post(
            "/dashboard/new",
            data={"csrf": token, "target": "https://example.com/"},
            follow_redirects=False,
        )
        assert answer.status_code == 403
    genuine = csrf_of(client.get("/dashboard/new").text)
    answer = client.post(
        "/dashboard/new",
        data={"csrf": genuine, "target": "https://example.com/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303


def test_a_signed_cookie_of_the_old_kind_is_refused_cleanly(
    app: Starlette, client: TestClient, sign_in: SignIn
) -> None:
    parts = split_token(sign_in(Scope.ADMIN))
    assert parts is not None
    old = old_style_cookie(b"s" * 32, parts[0], int(time.time()))
    client.cookies.clear()
    client.cookies.set("scanlet_session", old)
    page = client.get("/dashboard/codes", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/dashboard/sign-in")
    assert client.get("/dashboard/stream?slug=x").status_code == 401
    assert (
        client.post("/dashboard/new", data={"csrf": "x"}, follow_redirects=False).status_code == 303
    )


def test_a_form_token_of_another_session_is_refused(client: TestClient, sign_in: SignIn) -> None:
    sign_in(Scope.WRITE)
    stale = csrf_of(client.get("/dashboard/new").text)
    sign_in(Scope.WRITE)
    answer = client.post("/dashboard/new", data={"csrf": stale, "target": "https://e.com/"})
    assert answer.status_code == 403
    assert "The form has expired" in answer.text


def test_sessions_and_form_tokens_survive_a_restart_with_the_same_key_file(
    tmp_path: Path,
) -> None:
    settings = load_settings({"SCANLET_DB": str(tmp_path / "s.db")}, isatty=False)
    first = create_app(settings, registry=CollectorRegistry())
    with TestClient(first, base_url="http://qr.test") as client:
        token = client.portal.call(_mint, first)  # type: ignore[union-attr]
        form = client.get("/dashboard/sign-in")
        client.post("/dashboard/sign-in", data={"csrf": csrf_of(form.text), "key": token})
        cookie = client.cookies["scanlet_session"]
        csrf = csrf_of(client.get("/dashboard/new").text)
    second = create_app(settings, registry=CollectorRegistry())
    with TestClient(second, base_url="http://qr.test") as client:
        client.cookies.set("scanlet_session", cookie)
        assert signed_in(client)
        assert csrf_of(client.get("/dashboard/new").text) == csrf
    # A new key file (the old one lost): the session still stands (only its hash is needed),
    # but a form rendered before must be reloaded.
    (tmp_path / "s.db.key").unlink()
    third = create_app(settings, registry=CollectorRegistry())
    with TestClient(third, base_url="http://qr.test") as client:
        client.cookies.set("scanlet_session", cookie)
        assert signed_in(client)
        stale = client.post("/dashboard/sign-out", data={"csrf": csrf}, follow_redirects=False)
        assert stale.status_code == 403
        assert post_form(client, "/dashboard/sign-out", "/dashboard").status_code == 303


async def _mint(app: Starlette) -> str:
    created = await app.state.services.keys.create("t", Scope.WRITE, now=datetime.now(UTC))
    return str(created.token)
