"""Session cookies and CSRF tokens: signed, bound, expiring; the key survives restarts."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from scanlet.config import load_settings
from scanlet.http.app import create_app
from scanlet.http.dashboard.session import SessionSigner

SIGNER = SessionSigner(b"k" * 32, max_age=100)


def test_a_cookie_round_trips_to_its_session() -> None:
    cookie, session = SIGNER.issue("key1", now=1000)
    assert SIGNER.verify(cookie, now=1050) == session
    assert session.k == "key1"


def test_an_expired_or_future_cookie_is_refused() -> None:
    cookie, _ = SIGNER.issue("key1", now=1000)
    assert SIGNER.verify(cookie, now=1101) is None
    assert SIGNER.verify(cookie, now=999) is None


def test_a_cookie_signed_with_another_secret_is_refused() -> None:
    cookie, _ = SessionSigner(b"x" * 32).issue("key1", now=1000)
    assert SIGNER.verify(cookie, now=1000) is None


def test_a_changed_payload_breaks_the_signature() -> None:
    cookie, _ = SIGNER.issue("key1", now=1000)
    _body, mac = cookie.split(".")
    other, _ = SIGNER.issue("admin", now=1000)
    assert SIGNER.verify(f"{other.split('.')[0]}.{mac}", now=1000) is None


def test_csrf_tokens_are_bound_to_their_nonce_and_purpose() -> None:
    token = SIGNER.csrf_token("nonce-a")
    assert SIGNER.check_csrf("nonce-a", token)
    assert not SIGNER.check_csrf("nonce-b", token)
    assert not SIGNER.check_csrf("nonce-a", token, "login")
    assert not SIGNER.check_csrf("nonce-a", None)


@given(st.text(max_size=600))
def test_any_text_as_a_cookie_is_refused_without_raising(text: str) -> None:
    assert SIGNER.verify(text, now=1000) is None


def test_the_session_key_lives_in_server_secrets_so_sessions_survive_a_restart(
    tmp_path: Path,
) -> None:
    settings = load_settings({"SCANLET_DB": str(tmp_path / "s.db")}, isatty=False)
    cookies = []
    for _ in range(2):
        app = create_app(settings, registry=CollectorRegistry())
        with TestClient(app):
            signer: SessionSigner = app.state.services.extras["dashboard"]
            cookies.append(signer.issue("key1")[0])
            assert all(signer.verify(cookie) is not None for cookie in cookies)
