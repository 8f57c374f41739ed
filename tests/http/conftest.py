"""An app on a temporary database, served in-process by Starlette's TestClient; a real
loopback connection for the server glues' tests."""

import asyncio
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Send
from starlette.types import Scope as AsgiScope

from scanlet.actors.access.keys import Scope
from scanlet.actors.access.passwords import Passwords
from scanlet.assembly import create_app
from scanlet.config import load_settings

MintKey = Callable[[Scope], str]


@pytest.fixture
def app_env() -> dict[str, str]:
    """More settings for the test app; a test module overrides this fixture to add some."""
    return {}


@pytest.fixture
def app(scanlet_db: str, tmp_path: Path, app_env: dict[str, str]) -> Starlette:
    settings = load_settings(
        {
            "SCANLET_DB": scanlet_db,
            "SCANLET_BASE_URL": "http://qr.test",
            "SCANLET_SECRET_FILE": str(tmp_path / "scanlet.key"),
            **app_env,
        },
        isatty=False,
    )
    # Passwords at low argon2id costs: the tests check the rules, not the hash's strength.
    return create_app(settings, registry=CollectorRegistry(), passwords=Passwords.cheap())


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://qr.test") as test_client:
        yield test_client


@pytest.fixture
def mint_key(app: Starlette, client: TestClient) -> MintKey:
    """Create a key on the running app's database and return its token."""

    def mint(scope: Scope = Scope.ADMIN) -> str:
        store = app.state.services.keys
        created = client.portal.call(  # type: ignore[union-attr]
            partial(store.create, f"test-{scope.label}", scope, now=datetime.now(UTC))
        )
        return str(created.token)

    return mint


@pytest.fixture
def connection() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A real loopback connection (client, accepted) for the server glue to pace and cut."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
        with client, accepted:
            client.settimeout(0.5)
            yield client, accepted


#: How a streamed response may be left unfinished: the app returns, raises or is cancelled.
UNFINISHED = ("returns", "raises", "is cancelled")


def streamed_app(ending: str) -> ASGIApp:
    """An app that streams one part with more to come, then ends as ``ending`` says: one of
    ``UNFINISHED``, or "finishes" (a last, empty part)."""

    async def app(scope: AsgiScope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        if ending == "finishes":
            await send({"type": "http.response.body", "body": b""})
        elif ending == "raises":
            raise RuntimeError("failed part-way")
        elif ending == "is cancelled":
            raise asyncio.CancelledError

    return app
