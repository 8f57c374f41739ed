"""Security headers on every kind of response; no secret and no full address in the logs;
the database files kept from other users."""

import os
import sqlite3
import stat
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient
from structlog.testing import capture_logs

from scanlet.actors.access.keys import Scope
from scanlet.actors.scans.actor import ScansActor
from scanlet.assembly import create_app
from scanlet.config import load_settings
from scanlet.http.endpoint import Endpoint
from scanlet.storage.private_files import database_files
from scanlet.storage.server_key import ServerKeyError
from tests.reliability.conftest import Crash


@pytest.fixture
def writer(client: TestClient, mint_key: Callable[[Scope], str]) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {mint_key(Scope.WRITE)}"}
    response = client.post(
        "/api/v1/codes", json={"target": "https://example.com/", "slug": "menu"}, headers=headers
    )
    assert response.status_code == 201
    return headers


def assert_secure(response: Any) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/menu", {}, 302),  # the fast path
        ("GET", "/q/menu", {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}, 302),
        ("HEAD", "/menu", {}, 302),
        ("GET", "/nothing", {"accept": "text/html"}, 404),  # the HTML page
        ("GET", "/nothing", {}, 404),
        ("GET", "/api/v1/codes", {}, 401),
        ("GET", "/docs", {}, 200),
        ("GET", "/openapi.json", {}, 200),
        ("GET", "/metrics", {}, 200),
        ("GET", "/livez", {}, 200),
        ("DELETE", "/livez", {}, 405),
    ],
)
def test_every_kind_of_response_carries_the_security_headers(
    client: TestClient,
    writer: dict[str, str],
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    response = client.request(method, path, headers=headers, follow_redirects=False)
    assert response.status_code == status
    assert_secure(response)


def test_authenticated_api_responses_carry_them_too(
    client: TestClient, writer: dict[str, str]
) -> None:
    assert_secure(client.get("/api/v1/codes/menu", headers=writer))
    assert_secure(client.get("/api/v1/codes/menu/qr?format=svg", headers=writer))


def test_api_keys_are_never_logged(
    client: TestClient, writer: dict[str, str], mint_key: Callable[[Scope], str]
) -> None:
    reader = mint_key(Scope.READ)
    secrets = [writer["Authorization"].removeprefix("Bearer "), reader, "slk_forged_0123456789"]
    with capture_logs() as logs:
        client.get("/api/v1/codes", headers=writer)
        client.post(
            "/api/v1/codes", json={"target": "x"}, headers={"Authorization": f"Bearer {reader}"}
        )
        client.get("/api/v1/codes", headers={"Authorization": f"Bearer {secrets[2]}"})
        client.get("/api/v1/codes", headers={"Authorization": f"Basic {secrets[2]}"})
        client.get("/menu", headers={"Authorization": f"Bearer {reader}"}, follow_redirects=False)
        client.get(f"/{secrets[2]}", headers={"Authorization": f"Bearer {reader}"})
    text = repr(logs)
    for secret in secrets[:2]:
        assert secret not in text
        assert secret[:16] not in text


def test_client_addresses_never_reach_the_logs_in_full(
    client: TestClient, writer: dict[str, str]
) -> None:
    address = "203.0.113.77"
    with capture_logs() as logs:
        for path in ("/menu", "/nothing-here", "/api/v1/codes"):
            client.get(path, headers={"x-forwarded-for": address}, follow_redirects=False)
    assert address not in repr(logs)


HSTS = "max-age=31536000"


@pytest.fixture
def https_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Crash]:
    """An app whose public base URL is https, with a disarmed crash hook in the scans actor
    (installed before start: a running actor keeps the handler it started with)."""
    crash = Crash(monkeypatch, ScansActor, "on_message")
    settings = load_settings(
        {"SCANLET_DB": str(tmp_path / "s.db"), "SCANLET_BASE_URL": "https://qr.test"},
        isatty=False,
    )
    failing = Endpoint("GET", "/boom", _boom, "fails", "test", include_in_schema=False)
    return create_app(settings, registry=CollectorRegistry(), extra_endpoints=[failing]), crash


async def _boom(request: Request) -> Response:
    raise RuntimeError("an unhandled error")


def test_with_an_https_base_url_every_kind_of_response_carries_hsts(
    https_app: tuple[Any, Crash],
) -> None:
    app, crash = https_app
    with TestClient(
        app, base_url="https://qr.test", follow_redirects=False, raise_server_exceptions=False
    ) as client:
        store = app.state.services.keys
        key = client.portal.call(  # type: ignore[union-attr]
            partial(store.create, "w", Scope.WRITE, now=datetime.now(UTC))
        ).token
        auth = {"Authorization": f"Bearer {key}"}
        created = client.post(
            "/api/v1/codes", json={"target": "https://example.com/", "slug": "menu"}, headers=auth
        )
        answers = [
            created,
            client.get("/menu"),  # the fast path
            client.head("/menu"),  # the full path's redirect
            client.get("/nothing", headers={"accept": "text/html"}),
            client.get("/api/v1/codes"),
            client.get("/api/v1/codes", headers=auth),
            client.get("/docs"),
            client.get("/dashboard"),  # a redirect to the sign-in form
            client.get("/dashboard/sign-in"),
            client.delete("/livez"),
            client.get("/boom"),  # a 500 from Starlette's outermost error handler
        ]
        crash.arm()
        answers.append(client.get("/menu"))  # the fast path's own 503
    expected = [201, 302, 302, 404, 401, 200, 200, 303, 200, 405, 500, 503]
    assert [a.status_code for a in answers] == expected
    for answer in answers:
        assert answer.headers.get_list("strict-transport-security") == [HSTS], answer.url
        assert_secure(answer)


def test_with_an_http_base_url_no_response_carries_hsts(
    client: TestClient, writer: dict[str, str]
) -> None:
    for answer in (client.get("/menu", follow_redirects=False), client.get("/docs")):
        assert "strict-transport-security" not in answer.headers


def test_a_database_left_readable_by_others_is_made_private_at_start(tmp_path: Path) -> None:
    db = tmp_path / "scanlet.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
    # As an older version left them under a 0022 umask.
    for path in database_files(db):
        path.touch()
        os.chmod(path, 0o644)
    settings = load_settings({"SCANLET_DB": str(db)}, isatty=False)
    with capture_logs() as logs, TestClient(create_app(settings, registry=CollectorRegistry())):
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in database_files(db)}
    assert modes == {path.name: 0o600 for path in database_files(db)}
    tightened = [e["path"] for e in logs if e["event"].endswith("tightened")]
    assert tightened == [str(path) for path in database_files(db)]


def start_and_stop(db: Path) -> list[MutableMapping[str, Any]]:
    settings = load_settings({"SCANLET_DB": str(db)}, isatty=False)
    with capture_logs() as logs, TestClient(create_app(settings, registry=CollectorRegistry())):
        pass
    return logs


def test_the_first_start_creates_the_key_file_and_later_ones_reuse_it(tmp_path: Path) -> None:
    db = tmp_path / "scanlet.db"
    first = start_and_stop(db)
    key = (tmp_path / "scanlet.db.key").read_bytes()
    assert [e["log_level"] for e in first if "server key" in e["event"]] == ["info"]
    again = start_and_stop(db)
    assert (tmp_path / "scanlet.db.key").read_bytes() == key
    assert not [e for e in again if "server key" in e["event"]]


def test_a_database_restored_without_its_key_file_starts_with_a_warning(tmp_path: Path) -> None:
    db = tmp_path / "scanlet.db"
    start_and_stop(db)
    (tmp_path / "scanlet.db.key").unlink()
    logs = start_and_stop(db)
    assert [e["log_level"] for e in logs if "server key" in e["event"]] == ["warning"]
    assert (tmp_path / "scanlet.db.key").exists()


def test_a_broken_key_file_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "scanlet.db.key").write_bytes(b"not a key")
    settings = load_settings({"SCANLET_DB": str(tmp_path / "scanlet.db")}, isatty=False)
    with (
        pytest.raises(ServerKeyError, match="holds 9 bytes"),
        TestClient(create_app(settings, registry=CollectorRegistry())),
    ):
        pass
