"""Run the app under uvicorn in this process, and exit 0 after a graceful drain.

uvicorn is embedded (not spawned) so the actor system shares the server's event loop: a
redirect hands its scan to the scans actor without crossing a process or thread boundary.
"""

from __future__ import annotations

import signal
from typing import Any

import structlog
import uvicorn

from scanlet.config import Settings
from scanlet.http.app import create_app
from scanlet.observability.logging import configure_logging
from scanlet.observability.tracing import configure_otel_from_env

__all__ = ("serve",)

log = structlog.get_logger("scanlet.server")


def _ignore(signum: int, frame: Any) -> None:
    """Stand-in handler: uvicorn re-raises the signal it caught after its graceful exit."""


def serve(settings: Settings) -> int:
    """Serve until SIGINT or SIGTERM; returns 0 after a clean drain, 1 if start-up failed."""
    configure_logging(settings.log_format, settings.log_level)
    configure_otel_from_env()
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        server_header=False,
        log_config=None,
        timeout_graceful_shutdown=int(settings.shutdown_timeout),
    )
    server = uvicorn.Server(config)
    # uvicorn restores the previous handlers and re-raises a caught signal once it has shut
    # down; with the defaults that would kill us with -SIGTERM (or KeyboardInterrupt) after
    # a perfectly clean drain. These stand-ins let the process exit 0 instead.
    signal.signal(signal.SIGTERM, _ignore)
    signal.signal(signal.SIGINT, _ignore)
    server.run()
    if not server.started:
        log.error("server did not start", host=settings.host, port=settings.port)
        return 1
    log.info("stopped")
    return 0
