"""Open streams are capped (in total and per key, 429 beyond) and re-check their key."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx
import pytest
import uvicorn
from prometheus_client import CollectorRegistry

from scanlet.actors.access.keys import ApiKeys, Scope
from scanlet.actors.access.passwords import Passwords
from scanlet.actors.access.roles import SYSTEM, Role
from scanlet.actors.access.users import Users
from scanlet.assembly import create_app
from scanlet.assembly.integrations import IntegrationsFeature
from scanlet.config import load_settings
from scanlet.http.app import ScanletApp
from scanlet.http.stream import StreamConfig
from scanlet.storage.opening import open_storage
from tests.processes import free_port

FAST = StreamConfig(heartbeat=0.05, recheck=0.05)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class Site:
    base: str
    app: ScanletApp
    tokens: dict[str, str]
    key_ids: dict[str, str]


@pytest.fixture
async def site(scanlet_db: str, tmp_path: Path) -> AsyncIterator[Site]:
    tokens, ids = {}, {}
    settings = load_settings(
        {
            "SCANLET_DB": scanlet_db,
            "SCANLET_SECRET_FILE": str(tmp_path / "scanlet.key"),
            "SCANLET_STREAM_LIMIT": "3",
            "SCANLET_STREAM_LIMIT_PER_KEY": "2",
        },
        isatty=False,
    )
    async with open_storage(settings) as storage:
        for name in ("a", "b", "c"):
            made = await ApiKeys(storage.keys).create(name, Scope.READ, now=datetime.now(UTC))
            tokens[name], ids[name] = made.token, made.key.id
    app = create_app(
        settings, registry=CollectorRegistry(), features=[IntegrationsFeature(stream=FAST)]
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    server.config.timeout_graceful_shutdown = 1
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    with anyio.fail_after(10):
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await anyio.sleep(0.01)
    try:
        yield Site(f"http://127.0.0.1:{port}", app, tokens, ids)
    finally:
        server.should_exit = True
        await anyio.to_thread.run_sync(thread.join, 10)


async def open_stream(
    stack: AsyncExitStack, client: httpx.AsyncClient, token: str
) -> httpx.Response:
    return await stack.enter_async_context(
        client.stream("GET", "/api/v1/stream", headers={"Authorization": f"Bearer {token}"})
    )


async def test_streams_over_a_cap_are_429_and_a_closed_one_frees_its_place(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.base, timeout=5) as client:
        async with AsyncExitStack() as stack:
            first = await open_stream(stack, client, site.tokens["a"])
            second = await open_stream(stack, client, site.tokens["a"])
            assert (first.status_code, second.status_code) == (200, 200)
            per_key = await open_stream(stack, client, site.tokens["a"])
            assert per_key.status_code == 429
            assert per_key.headers["retry-after"] == "10"
            await per_key.aread()
            assert "This key has 2 event streams open" in per_key.json()["detail"]
            assert (await open_stream(stack, client, site.tokens["b"])).status_code == 200
            total = await open_stream(stack, client, site.tokens["c"])
            assert total.status_code == 429
            await total.aread()
            assert "The server has 3 event streams open" in total.json()["detail"]
            # Counted before the streams close: a stream asked for while the server has not
            # yet seen a close is refused too (and counted), as the wait below allows.
            metrics = (await client.get("/metrics")).text
        # Every stream above is closed now: their places are free again (soon: the server
        # frees a place once it sees the client gone).
        with anyio.fail_after(5):
            while True:
                async with client.stream(
                    "GET", "/api/v1/stream", headers={"Authorization": f"Bearer {site.tokens['c']}"}
                ) as again:
                    if again.status_code == 200:
                        break
                await anyio.sleep(0.05)
    assert 'scanlet_streams_refused_total{cap="per_key"} 1.0' in metrics
    assert 'scanlet_streams_refused_total{cap="total"} 1.0' in metrics


async def test_an_open_stream_closes_soon_after_its_key_is_revoked(site: Site) -> None:
    async with (
        httpx.AsyncClient(base_url=site.base, timeout=5) as client,
        client.stream(
            "GET", "/api/v1/stream", headers={"Authorization": f"Bearer {site.tokens['a']}"}
        ) as response,
    ):
        assert response.status_code == 200
        chunks = response.aiter_bytes()
        await anext(chunks)  # the opening "retry:"
        # Revoked from another connection, as `scanlet keys revoke` does.
        async with open_storage(site.app.state.services.settings) as other:
            assert await ApiKeys(other.keys).revoke(site.key_ids["a"], now=datetime.now(UTC))
        with anyio.fail_after(5):
            async for _ in chunks:  # heartbeats until the re-check closes the stream
                pass


async def test_an_open_stream_closes_soon_after_its_keys_user_is_disabled(site: Site) -> None:
    settings = site.app.state.services.settings
    async with open_storage(settings) as storage:
        users = Users(storage.users, Passwords.cheap())
        ana = await users.create("ana@example.com", Role.VIEWER, None, by=SYSTEM, now=NOW)
        made = await ApiKeys(storage.keys).create("ana", Scope.READ, now=NOW, user=ana)
    async with (
        httpx.AsyncClient(base_url=site.base, timeout=5) as client,
        client.stream(
            "GET", "/api/v1/stream", headers={"Authorization": f"Bearer {made.token}"}
        ) as response,
    ):
        assert response.status_code == 200
        chunks = response.aiter_bytes()
        await anext(chunks)
        # Disabled from another connection, as `scanlet users disable` does.
        async with open_storage(settings) as other:
            users = Users(other.users, Passwords.cheap())
            await users.change(ana.id, by=SYSTEM, now=NOW, disabled=True)
        with anyio.fail_after(5):
            async for _ in chunks:  # heartbeats until the re-check closes the stream
                pass


async def test_a_tag_limited_keys_stream_of_every_code_shows_only_its_codes(site: Site) -> None:
    async with open_storage(site.app.state.services.settings) as storage:
        users = Users(storage.users, Passwords.cheap())
        agency = await users.create(
            "ag@example.com", Role.VIEWER, None, by=SYSTEM, now=NOW, tags=["x"]
        )
        limited = await ApiKeys(storage.keys).create("ag", Scope.READ, now=NOW, user=agency)
        admin = await ApiKeys(storage.keys).create("adm", Scope.ADMIN, now=NOW)
    async with httpx.AsyncClient(base_url=site.base, timeout=5) as client:
        for slug, tags in (("mine", ["x"]), ("other", ["y"])):
            made = await client.post(
                "/api/v1/codes",
                json={"target": "https://example.com/", "slug": slug, "tags": tags},
                headers={"Authorization": f"Bearer {admin.token}"},
            )
            assert made.status_code == 201
        async with client.stream(
            "GET", "/api/v1/stream", headers={"Authorization": f"Bearer {limited.token}"}
        ) as response:
            assert response.status_code == 200
            lines = response.aiter_lines()
            assert (await anext(lines)).startswith("retry:")
            for slug in ("other", "mine"):
                assert (await client.get(f"/{slug}")).status_code == 302
            with anyio.fail_after(5):
                data = [line async for line in _until_event(lines)]
    assert len(data) == 1
    assert '"slug":"mine"' in data[0]


async def _until_event(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The data lines of a stream up to and including its first event's."""
    async for line in lines:
        if line.startswith("data: "):
            yield line
            return
