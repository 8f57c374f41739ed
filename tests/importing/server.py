"""Reading a database the way users do, through the API of an app started on it afresh
(so it serves what the import committed, read models caught up)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.actors.follower import CATCH_UP
from scanlet.assembly import create_app
from scanlet.config import Settings, load_settings
from tests.conftest import CATCH_UP_SECONDS

__all__ = ("ApiReader", "settings_for")


def settings_for(db: str, tmp_path: Path) -> Settings:
    return load_settings(
        {
            "SCANLET_DB": db,
            "SCANLET_BASE_URL": "http://qr.test",
            "SCANLET_SECRET_FILE": str(tmp_path / "scanlet.key"),
        },
        isatty=False,
    )


class ApiReader:
    """``get``/``post`` on a fresh app over the database for each call."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @contextmanager
    def session(self) -> Iterator[tuple[TestClient, dict[str, str]]]:
        app = create_app(self.settings, registry=CollectorRegistry())
        with TestClient(app, base_url="http://qr.test") as client:
            portal = client.portal
            assert portal is not None
            created = portal.call(
                lambda: app.state.services.keys.create("t", Scope.ADMIN, now=datetime.now(UTC))
            )
            analytics = app.state.services.system.lookup("analytics")
            events = app.state.services.storage.events

            async def caught_up() -> None:
                # On PostgreSQL the log reads only up to the oldest transaction running on
                # the server (other tests' too): catch up until nothing is left behind.
                while True:
                    position = await analytics.ask(CATCH_UP, timeout=CATCH_UP_SECONDS)
                    if not await events.lag(position):
                        return
                    await anyio.sleep(0.05)

            portal.call(caught_up)
            yield client, {"Authorization": f"Bearer {created.token}"}

    def get(self, path: str) -> Any:
        with self.session() as (client, headers):
            reply = client.get(path, headers=headers)
            assert reply.status_code == 200, reply.text
            return reply.json()

    def post(self, path: str, body: Any) -> Any:
        with self.session() as (client, headers):
            reply = client.post(path, json=body, headers=headers)
            assert reply.status_code in (200, 201), reply.text
            return reply.json()
