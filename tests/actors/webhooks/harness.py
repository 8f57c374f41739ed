"""A served app with the integrations feature and a scripted sender standing in for receivers."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.actors.webhooks.sender import Outgoing, SendResult
from scanlet.actors.webhooks.ssrf import IPAddress
from scanlet.assembly import create_app
from scanlet.assembly.integrations import IntegrationsFeature
from scanlet.config import load_settings

PUBLIC = "93.184.215.14"


async def fake_dns(host: str, port: int) -> list[IPAddress]:
    """Every ``*.example`` name is public; nothing else resolves."""
    return [ipaddress.ip_address(PUBLIC)] if host.endswith(".example") else []


class ScriptedSender:
    """Records every delivery; ``reply`` picks the status (None: a network error)."""

    def __init__(self, reply: Callable[[Outgoing], int | None] = lambda outgoing: 200) -> None:
        self.reply = reply
        self.sent: list[Outgoing] = []
        self._changed = threading.Condition()

    async def send(self, outgoing: Outgoing) -> SendResult:
        """Answer as scripted."""
        status = self.reply(outgoing)
        with self._changed:
            self.sent.append(outgoing)
            self._changed.notify_all()
        return SendResult(status, None if status is not None else "ConnectError: refused", 0.001)

    async def aclose(self) -> None:
        """Nothing to close."""

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Outgoing]:
        """Block until ``count`` deliveries were attempted (fails after ``timeout``)."""
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.sent) >= count, timeout), (
                f"only {len(self.sent)} of {count} deliveries were attempted"
            )
            return list(self.sent[:count])


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``check`` until it holds (a deadline for the test, not a timed assertion)."""
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "the condition never held"
        time.sleep(0.01)


class Served:
    """A running app, an admin key's headers and the sender."""

    def __init__(self, client: TestClient, headers: dict[str, str], sender: Any) -> None:
        self.client = client
        self.headers = headers
        self.sender = sender

    def create_webhook(self, events: list[str], url: str = "https://hooks.example/in") -> Any:
        """Register an endpoint; returns the created resource (with its secret)."""
        response = self.client.post(
            "/api/v1/webhooks", json={"url": url, "events": events}, headers=self.headers
        )
        assert response.status_code == 201, response.text
        return response.json()

    def create_code(self, slug: str) -> None:
        """Create a code (a ``code.created`` event)."""
        response = self.client.post(
            "/api/v1/codes",
            json={"target": "https://example.com/", "slug": slug},
            headers=self.headers,
        )
        assert response.status_code == 201, response.text

    def webhook(self, webhook_id: str) -> Any:
        """The endpoint resource."""
        return self.client.get(f"/api/v1/webhooks/{webhook_id}", headers=self.headers).json()

    def attempts(self, webhook_id: str) -> list[Any]:
        """Its delivery attempts, oldest first."""
        response = self.client.get(
            f"/api/v1/webhooks/{webhook_id}/deliveries?limit=1000", headers=self.headers
        )
        assert response.status_code == 200, response.text
        return list(reversed(response.json()["items"]))


@contextmanager
def serve(
    db: str,
    key_dir: Path,
    sender: Any,
    *,
    retry_base: str = "0.01",
    allow_private: bool = False,
    **feature: Any,
) -> Iterator[Served]:
    """Run the app on ``db`` (a ``scanlet_db``) with the integrations feature and ``sender``,
    its server key in ``key_dir``."""
    settings = load_settings(
        {
            "SCANLET_DB": db,
            "SCANLET_SECRET_FILE": str(key_dir / "scanlet.key"),
            "SCANLET_BASE_URL": "http://qr.test",
            "SCANLET_WEBHOOK_RETRY_BASE": retry_base,
            "SCANLET_WEBHOOK_ALLOW_PRIVATE": "true" if allow_private else "false",
        },
        isatty=False,
    )
    feature.setdefault("resolver", fake_dns)
    feature.setdefault("rand", lambda: 0.5)
    app = create_app(
        settings,
        registry=CollectorRegistry(),
        features=[IntegrationsFeature(sender=sender, **feature)],
    )
    with TestClient(app, base_url="http://qr.test") as client:
        store = app.state.services.keys
        created = client.portal.call(  # type: ignore[union-attr]
            lambda: store.create("admin", Scope.ADMIN, now=datetime.now(UTC))
        )
        yield Served(client, {"Authorization": f"Bearer {created.token}"}, sender)
