"""Operational endpoints: liveness, readiness, metrics, the OpenAPI document and its page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from scanlet.http.docs_page import DOCS_CSP, render_docs
from scanlet.http.endpoint import Endpoint, Reply
from scanlet.http.responses import json_response
from scanlet.http.services import services
from scanlet.storage.errors import StorageUnavailable

__all__ = ("Health", "ops_endpoints")

_encoder = msgspec.json.Encoder()


class Health(msgspec.Struct, frozen=True):
    """Readiness: overall status, and a reason for each part that is not ready.

    ``status`` is ``ready``, ``degraded`` (a feature is down; redirects and ingest work, so
    still 200) or ``unavailable`` (503: the database, the core or the actor system).
    ``features`` maps each installed feature to ``running`` or ``down``. ``instance`` names
    this instance, ``leader`` the one running the log followers (analytics, webhooks,
    retention): the same on SQLite, where there is one; None while nobody leads.
    """

    status: str
    database: str
    actors: dict[str, str]
    reasons: list[str]
    features: dict[str, str] = {}
    instance: str = ""
    leader: str | None = None


async def livez(request: Request) -> Response:
    """Alive as long as the process answers."""
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when the database answers and the core runs; a feature that is down makes the
    answer ``degraded`` (still 200: redirects and ingest work without it)."""
    svc = services(request)
    reasons: list[str] = []
    try:
        await svc.storage.ping()
        database = "ok"
    except StorageUnavailable as exc:
        database = "unavailable"
        reasons.append(f"database: {exc}")
    if database == "ok" and svc.storage.write_error is not None:
        # The last write failed (full disk, lock, read-only): see whether writes work again
        # rather than wait for a client's write to find out.
        try:
            await svc.storage.probe_write()
        except StorageUnavailable as exc:
            database = "unwritable"
            reasons.append(f"database: writes are failing: {exc}")
    actors = svc.system.health()
    if svc.system.failure is not None:
        reasons.append(f"actor system failed: {svc.system.failure}")
    for name in svc.core_actors:
        state = actors.get(name, "stopped")
        if state != "running":
            reasons.append(f"actor {name} is {state}")
    features: dict[str, str] = {}
    down: list[str] = []
    for name, feature in svc.features.items():
        features[name] = "running" if feature.is_running else "down"
        if feature.is_running:
            down.extend(
                f"actor {actor} of {name} is {state}"
                for actor, state in feature.actor_states().items()
                if state != "running"
            )
        else:
            down.append(f"feature {name} is down (it gave up; it is retried after a pause)")
    leadership = svc.leadership
    leader = await leadership.leader() if database == "ok" else None
    if reasons:
        health = Health(
            "unavailable", database, actors, reasons + down, features, leadership.instance, leader
        )
        return json_response(health, 503)
    status = "degraded" if down else "ready"
    health = Health(status, database, actors, down, features, leadership.instance, leader)
    return json_response(health, 200)


async def metrics(request: Request) -> Response:
    """Prometheus text exposition of every ``scanlet_`` metric."""
    return Response(generate_latest(services(request).registry), media_type=CONTENT_TYPE_LATEST)


def ops_endpoints(openapi: Callable[[], dict[str, Any]]) -> list[Endpoint]:
    """The ops routes; ``openapi`` builds the document (once, lazily)."""
    cache: dict[str, bytes] = {}

    def document() -> bytes:
        if "doc" not in cache:
            cache["doc"] = _encoder.encode(openapi())
        return cache["doc"]

    async def openapi_json(request: Request) -> Response:
        """The OpenAPI 3.1 document."""
        return Response(document(), media_type="application/json")

    async def docs(request: Request) -> Response:
        """A readable page for the API, with no external assets."""
        if "page" not in cache:
            cache["page"] = render_docs(msgspec.json.decode(document())).encode()
        return HTMLResponse(cache["page"], headers={"Content-Security-Policy": DOCS_CSP})

    return [
        Endpoint(
            "GET",
            "/livez",
            livez,
            "Liveness",
            "ops",
            replies=[Reply(200, "The process is running.")],
        ),
        Endpoint(
            "GET",
            "/readyz",
            readyz,
            "Readiness",
            "ops",
            replies=[Reply(200, "Ready.", Health), Reply(503, "Not ready.", Health)],
        ),
        Endpoint(
            "GET",
            "/metrics",
            metrics,
            "Prometheus metrics",
            "ops",
            replies=[Reply(200, "Metrics in Prometheus text format.", media_type="text/plain")],
        ),
        Endpoint(
            "GET",
            "/openapi.json",
            openapi_json,
            "This OpenAPI document",
            "ops",
            replies=[Reply(200, "The OpenAPI 3.1 document.")],
        ),
        Endpoint(
            "GET",
            "/docs",
            docs,
            "API documentation page",
            "ops",
            replies=[Reply(200, "An HTML page.", media_type="text/html")],
        ),
    ]
