"""Features: a bounded context's HTTP routes and start-up, installed into the app as a unit.

The app factory knows the core (codes, scans, ops). A feature such as analytics or webhooks
brings its own routes and starts its own actors and background tasks once the core services
exist, so it can be built and tested apart from the factory and switched on with one line.

Each feature's actors run under a supervisor of its own: a feature that keeps failing gives
up alone (reported by ``/readyz`` and a metric, retried after a long pause), while the core
goes on redirecting and ingesting.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Protocol

from anyio.abc import TaskGroup

from scanlet.http.endpoint import Endpoint
from scanlet.http.services import Services
from scanlet.runtime import SupervisorRef

__all__ = ("Feature",)


class Feature(Protocol):
    """A unit the app factory installs: routes, then start-up inside the lifespan."""

    #: The feature's name: its supervisor's, and what readiness reports when it is down.
    name: str

    def endpoints(self) -> list[Endpoint]:
        """Routes to add (they are matched before the catch-all ``/{slug}``)."""
        ...

    async def start(
        self,
        services: Services,
        supervisor: SupervisorRef,
        stack: AsyncExitStack,
        tasks: TaskGroup,
    ) -> None:
        """Spawn actors under ``supervisor`` (the feature's own) and start background work in
        ``tasks``; anything to close at shutdown goes on ``stack`` (closed after the actors
        stop)."""
        ...
