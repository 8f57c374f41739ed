"""After hostile or fuzzed input: the server must still be up."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.testclient import TestClient

__all__ = ("still_serving",)


def still_serving(app: Starlette, client: TestClient) -> None:
    """No actor failed, every actor runs and /readyz answers 200."""
    assert getattr(app.state, "fatal", None) is None
    assert app.state.services.system.failure is None
    health = app.state.services.system.health()
    assert all(state == "running" for state in health.values()), health
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
