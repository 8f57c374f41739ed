"""The scan path: redirects, 404/410, HEAD, sources, privacy and durability."""

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from hashlib import blake2b
from pathlib import Path
from typing import Any

import msgspec
import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.actors.scans.privacy import VisitorHasher
from scanlet.assembly import create_app
from scanlet.config import load_settings
from scanlet.storage.server_key import ServerKey, read_server_key
from scanlet.storage.sqlite.backup import backup_database
from tests.dbquery import query

# Any day: the salt source below answers the same salt for every day.
TODAY = date(2026, 1, 1)


@pytest.fixture
def writer(client: TestClient, mint_key: Callable[[Scope], str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_key(Scope.WRITE)}"}


def stored_scans(app: Starlette, kind: str = "scan.recorded") -> list[dict[str, Any]]:
    """Scans as committed to the database, read through a separate connection."""
    rows = query(
        app.state.services.settings, "SELECT payload FROM events WHERE type = ? ORDER BY seq", kind
    )
    return [msgspec.json.decode(row[0]) for row in rows]


def create(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/codes", json={"target": "https://example.com/", **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_scan_redirects_and_is_stored_before_the_response(
    app: Starlette, client: TestClient, writer: dict[str, str]
) -> None:
    create(client, writer, slug="menu")
    response = client.get(
        "/menu",
        follow_redirects=False,
        headers={"user-agent": "Phone/1.0", "referer": "https://ref.example/"},
    )
    assert response.status_code == 302
    assert response.headers["location"] == "https://example.com/"
    assert response.headers["cache-control"] == "private, max-age=0"
    scans = stored_scans(app)
    assert len(scans) == 1
    scan = scans[0]
    assert scan["slug"] == "menu"
    assert scan["source"] == "link"
    assert scan["user_agent"] == "Phone/1.0"
    assert scan["referrer"] == "https://ref.example/"
    assert scan["type"] == "scan.recorded"


def test_the_qr_payload_records_source_qr(
    app: Starlette, client: TestClient, writer: dict[str, str]
) -> None:
    code = create(client, writer, slug="poster")
    path = code["qr_payload"].removeprefix("http://qr.test")
    assert client.get(path, follow_redirects=False).status_code == 302
    assert [s["source"] for s in stored_scans(app)] == ["qr"]


def test_the_scan_counter_follows_the_scans(client: TestClient, writer: dict[str, str]) -> None:
    create(client, writer, slug="count")
    for _ in range(3):
        client.get("/count", follow_redirects=False)
    client.get("/q/count", follow_redirects=False)
    assert client.get("/api/v1/codes/count", headers=writer).json()["scans"] == 4


def test_head_redirects_but_records_nothing(
    app: Starlette, client: TestClient, writer: dict[str, str]
) -> None:
    create(client, writer, slug="head")
    response = client.head("/head", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "https://example.com/"
    assert stored_scans(app) == []


def test_retargeting_takes_effect_on_the_next_scan(
    client: TestClient, writer: dict[str, str]
) -> None:
    create(client, writer, slug="move")
    client.patch(
        "/api/v1/codes/move", json={"target": "https://moved.example/x?y=1"}, headers=writer
    )
    response = client.get("/move", follow_redirects=False)
    assert response.headers["location"] == "https://moved.example/x?y=1"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_the_code_chooses_its_redirect_status(
    client: TestClient, writer: dict[str, str], status: int
) -> None:
    create(client, writer, slug=f"s{status}", redirect_status=status)
    assert client.get(f"/s{status}", follow_redirects=False).status_code == status


def test_unknown_slugs_are_404_and_recorded_as_orphans(app: Starlette, client: TestClient) -> None:
    api = client.get("/nothing-here", headers={"accept": "application/json"})
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    browser = client.get("/nothing-here", headers={"accept": "text/html,*/*"})
    assert browser.status_code == 404
    assert browser.headers["content-type"].startswith("text/html")
    orphans = stored_scans(app, "scan.orphaned")
    assert [o["slug"] for o in orphans] == ["nothing-here", "nothing-here"]


def test_paths_that_cannot_be_slugs_are_404_without_a_record(
    app: Starlette, client: TestClient
) -> None:
    assert client.get("/favicon.ico").status_code == 404
    assert stored_scans(app, "scan.orphaned") == []


def test_disabled_expired_future_and_used_up_codes_are_410(
    app: Starlette, client: TestClient, writer: dict[str, str]
) -> None:
    create(client, writer, slug="off")
    client.patch("/api/v1/codes/off", json={"enabled": False}, headers=writer)
    create(client, writer, slug="old", valid_until="2000-01-01T00:00:00Z")
    create(client, writer, slug="later", valid_from="2999-01-01T00:00:00Z")
    create(client, writer, slug="twice", max_scans=2)
    for slug in ("off", "old", "later"):
        assert client.get(f"/{slug}", follow_redirects=False).status_code == 410, slug
    assert client.get("/twice", follow_redirects=False).status_code == 302
    assert client.get("/twice", follow_redirects=False).status_code == 302
    assert client.get("/twice", follow_redirects=False).status_code == 410
    assert [s["slug"] for s in stored_scans(app)] == ["twice", "twice"]


def test_a_deleted_code_answers_410(client: TestClient, writer: dict[str, str]) -> None:
    create(client, writer, slug="bye")
    client.delete("/api/v1/codes/bye", headers=writer)
    assert client.get("/bye", follow_redirects=False).status_code == 410


def test_visitor_hashes_are_stable_per_address_and_agent_and_hide_both(tmp_path: Path) -> None:
    with serve(tmp_path, peer="198.51.100.23") as (app, client, headers):
        create(client, headers, slug="priv")
        for agent in ("A", "A", "B"):
            client.get("/priv", follow_redirects=False, headers={"user-agent": agent})
    visitors = [s["visitor"] for s in stored_scans(app)]
    assert visitors[0] == visitors[1]
    assert visitors[0] != visitors[2]
    assert all(len(v) == 32 and "198.51" not in v for v in visitors)


class OneSalt:
    """A salt source that knows one salt, as someone holding a copy of the database would."""

    def __init__(self, salt: bytes) -> None:
        self.salt = salt

    def salt_for(self, day: date) -> bytes:
        return self.salt


def stored_blobs(path: Path) -> list[bytes]:
    """Every secret the file holds: the daily salts and anything else in server_secrets."""
    with sqlite3.connect(path) as conn:
        return [bytes(row[0]) for row in conn.execute("SELECT value FROM server_secrets")]


def test_a_database_and_its_backup_alone_give_no_address_back(tmp_path: Path) -> None:
    agent = "Mozilla/5.0 (Android 14; Mobile)"
    with serve(tmp_path, peer="198.51.100.23") as (app, client, headers):
        create(client, headers, slug="priv")
        client.get("/priv", follow_redirects=False, headers={"user-agent": agent})
        backup = backup_database(tmp_path / "p.db", tmp_path / "backup.db").path
    (scan,) = stored_scans(app)
    assert scan["ip"] == "198.51.100.0"
    assert scan["user_agent"] == agent
    guesses = [f"198.51.100.{host}" for host in range(256)]

    # What the database or the backup gives: the /24, the user agent, today's salt and
    # every other stored secret. Keyed by the salt, as before, or under any of those as the
    # server key, none of the 256 guesses gives the stored hash.
    blobs = stored_blobs(tmp_path / "p.db") + stored_blobs(backup)
    assert blobs
    for salt in blobs:
        for guess in guesses:
            message = f"{guess}\0{agent}".encode()
            assert blake2b(message, key=salt[:64], digest_size=16).hexdigest() != scan["visitor"]
        for guessed_key in {blob for blob in blobs if len(blob) == 32}:
            hasher = VisitorHasher(OneSalt(salt), ServerKey(guessed_key))
            assert scan["visitor"] not in {hasher.visitor_hash(TODAY, g, agent) for g in guesses}

    # With the key file as well, the same 256 guesses find the address: the key file is
    # what keeps them apart, and it is neither in the database nor in the backup.
    server_key = read_server_key(tmp_path / "p.db.key")
    assert server_key is not None
    found = {
        guess
        for salt in blobs
        for guess in guesses
        if VisitorHasher(OneSalt(salt), server_key).visitor_hash(TODAY, guess, agent)
        == scan["visitor"]
    }
    assert found == {"198.51.100.23"}
    raw_key = (tmp_path / "p.db.key").read_bytes()
    assert raw_key not in backup.read_bytes()
    assert raw_key not in (tmp_path / "p.db").read_bytes()


def test_without_anonymisation_the_full_address_is_kept(tmp_path: Path) -> None:
    with serve(tmp_path, peer="198.51.100.23", SCANLET_ANONYMIZE_IP="false") as (
        app,
        client,
        headers,
    ):
        create(client, headers, slug="full")
        client.get("/full", follow_redirects=False)
    assert [s["ip"] for s in stored_scans(app)] == ["198.51.100.23"]


def test_non_ascii_targets_are_percent_encoded_in_location(
    client: TestClient, writer: dict[str, str]
) -> None:
    create(client, writer, slug="uni", target="https://bücher.example/straße")
    location = client.get("/uni", follow_redirects=False).headers["location"]
    assert location.isascii()
    assert "stra%C3%9Fe" in location


@contextmanager
def serve(
    tmp_path: Path, *, peer: str, **env: str
) -> Iterator[tuple[Starlette, TestClient, dict[str, str]]]:
    """An app whose TestClient connects from ``peer``, with a write key ready."""
    settings = load_settings({"SCANLET_DB": str(tmp_path / "p.db"), **env}, isatty=False)
    app = create_app(settings, registry=CollectorRegistry())
    with TestClient(app, client=(peer, 4000)) as client:
        token = client.portal.call(_mint, app)  # type: ignore[union-attr]
        yield app, client, {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "stored"),
    [
        ("203.0.113.77", None, "", "203.0.113.0"),
        ("2001:db8:abcd:12::5", None, "", "2001:db8:abcd::"),
        ("203.0.113.77", "198.51.100.9", "", "203.0.113.0"),
        ("10.0.0.2", "198.51.100.9", "10.0.0.0/8", "198.51.100.0"),
    ],
)
def test_stored_addresses_follow_trust_and_anonymisation(
    tmp_path: Path, peer: str, forwarded: str | None, trusted: str, stored: str
) -> None:
    with serve(tmp_path, peer=peer, SCANLET_TRUSTED_PROXIES=trusted) as (app, client, headers):
        create(client, headers, slug="ip")
        extra = {"x-forwarded-for": forwarded} if forwarded else {}
        assert client.get("/ip", follow_redirects=False, headers=extra).status_code == 302
    assert [s["ip"] for s in stored_scans(app)] == [stored]


async def _mint(app: Starlette) -> str:
    created = await app.state.services.keys.create("t", Scope.WRITE, now=datetime.now(UTC))
    return str(created.token)
