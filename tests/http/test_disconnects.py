"""A client that hangs up while its body is read is not a server error."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.testclient import TestClient
from structlog.testing import capture_logs

from scanlet.actors.access.keys import Scope


def test_a_disconnect_during_the_body_is_499_without_a_traceback(
    app: Starlette, client: TestClient, mint_key: Callable[[Scope], str]
) -> None:
    token = mint_key(Scope.WRITE)
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/codes",
        "raw_path": b"/api/v1/codes",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"qr.test"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", b"100"),
        ],
        "client": ("203.0.113.9", 40000),
        "server": ("qr.test", 80),
        "state": {},
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def run() -> None:
        await app(scope, receive, send)

    with capture_logs() as logs:
        client.portal.call(run)  # type: ignore[union-attr]
    assert sent[0]["status"] == 499
    assert not [entry for entry in logs if entry["log_level"] in ("error", "critical")]
    registry: CollectorRegistry = app.state.services.registry
    assert (
        registry.get_sample_value(
            "scanlet_http_request_duration_seconds_count",
            {"route": "/api/v1/codes", "method": "POST", "status": "499"},
        )
        == 1
    )
