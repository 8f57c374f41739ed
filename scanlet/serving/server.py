"""Run the app in this process under granian (default) or uvicorn; exit 0 after a drain.

The server is embedded, not spawned, so the actor system shares the server's event loop: a
redirect hands its scan to the scans actor without crossing a process or thread boundary.

Why granian: on the same trivial Starlette route, pinned to one core and driven by wrk from
the other, granian served 1.40x the requests of uvicorn (uvloop + httptools) here
(``bench/servers.py``), and the redirect benchmark gained about as much. Its embedded mode
is marked experimental upstream, so ``SCANLET_SERVER=uvicorn`` keeps the well-trodden path
one setting away. Granian serves over RSGI, its own interface (``scanlet.http.rsgi``): live
-code scans are answered natively, everything else reaches the ASGI app through a bridge.
"""

from __future__ import annotations

import asyncio
import math
import signal
import socket
import sys
from typing import Any

import structlog

from scanlet.assembly import create_app
from scanlet.config import ConfigError, Settings
from scanlet.http.asgi_cut import CutShortResponses, cut_connection
from scanlet.http.rsgi import RsgiEntrance
from scanlet.observability.logging import configure_logging
from scanlet.observability.tracing import configure_otel_from_env
from scanlet.serving.gc import settle_garbage_collector
from scanlet.serving.handover import inherited_socket
from scanlet.serving.open_files import open_files_for
from scanlet.serving.threads import keep_other_threads_batched
from scanlet.storage.serve_lock import claim_serve_lock
from scanlet.storage.server_key import read_server_key

__all__ = ("serve",)

log = structlog.get_logger("scanlet.serving")

#: Granian's own logger (its Rust side's too) handed on to the root logger, which renders
#: it as every other line (scanlet.observability.logging); granian's default writes plain
#: text to stdout.
_GRANIAN_LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {},
    "loggers": {"_granian": {"level": "WARNING", "propagate": True}},
}


class _InFlight:
    """Tracks the requests being served, so a drain that overruns can end them.

    Granian's embedded server waits for every open request before it runs the lifespan
    shutdown, with no deadline: one client that stops sending its body, or an open event
    stream, kept SIGTERM from ever finishing (measured: no exit after 20 s); ``cancel_all``
    gives it a bound. uvicorn cancels what is left after its graceful timeout itself, but
    logs each cancel as the app's error with its traceback: ``cut_all`` shuts their
    connections down first, so that uvicorn sees the clients gone and each request ends as
    one whose client left.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: dict[asyncio.Task[Any], Any] = {}  # each task's scope

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        task = asyncio.current_task() if scope["type"] == "http" else None
        if task is None:
            await self.app(scope, receive, send)
            return
        self.requests[task] = scope
        try:
            await self.app(scope, receive, send)
        finally:
            self.requests.pop(task, None)

    def cancel_all(self) -> None:
        """Cancel every request still open (after the graceful timeout)."""
        if self.requests:
            log.warning("drain timed out; cancelling open requests", requests=len(self.requests))
        for task in list(self.requests):
            task.cancel()

    def cut_all(self) -> None:
        """Shut down the connection of every request still open (after the graceful
        timeout); a connection the kernel cannot name is left to the server's own cancel."""
        if not self.requests:
            return
        cut = sum(cut_connection(scope) for scope in list(self.requests.values()))
        log.warning(
            "drain timed out; closing open requests' connections",
            requests=len(self.requests),
            closed=cut,
        )


def _track_slow_requests(app: Any, *, asgi_server: bool) -> _InFlight:
    """Track the requests of ``app`` that can hang (bodies, streams): live-code scans finish
    within the ask timeout and are answered by the actors' drain. Under an ASGI server,
    their streamed responses left unfinished are cut short too (the RSGI glue does that
    under granian)."""
    in_flight = _InFlight(CutShortResponses(app.full_stack) if asgi_server else app.full_stack)
    app.send_slow_requests_through(in_flight)
    return in_flight


def _ignore(signum: int, frame: Any) -> None:
    """Stand-in handler: uvicorn re-raises the signal it caught after its graceful exit."""


#: Connections the kernel queues before the server accepts them (both servers).
_BACKLOG = 2048

# Header bytes granian buffers per request before it refuses with 431 itself (its default is
# 400 KiB); our own limits (scanlet.http.middleware) answer below this with problem+json.
_GRANIAN_MAX_BUFFER = 64 * 1024


async def _serve_granian(settings: Settings, listener: socket.socket | None) -> bool:
    from granian._granian import SocketHolder
    from granian.asgi import LifespanProtocol
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.server.embed import Server

    class InheritedServer(Server):
        """Granian on a socket handed in (socket activation) instead of one it binds."""

        def _init_shared_socket(self) -> None:
            assert listener is not None
            # Private API (granian 2.x pickles its SocketHolder as (fd, is_uds, backlog) to
            # hand it to workers); pinned by tests/test_handover.py.
            fd = listener.fileno()
            self._shd = SocketHolder(fd, False, self.backlog)  # type: ignore[call-arg,assignment]
            self._sfd = fd  # type: ignore[assignment]
            self._ssp = None

    app = create_app(settings)
    in_flight = _track_slow_requests(app, asgi_server=False)
    # Granian serves RSGI (scanlet.http.rsgi), so the ASGI lifespan is run here, by
    # granian's own runner of it, as its ASGI interface would.
    lifespan = LifespanProtocol(app)  # type: ignore[no-untyped-call]
    server = (InheritedServer if listener is not None else Server)(
        RsgiEntrance(app, lifespan.state),
        address=settings.host,
        port=settings.port,
        interface=Interfaces.RSGI,
        http=HTTPModes.http1,
        websockets=False,
        # Granian's defaults (a backlog of 128 and as many requests at once) let 128 clients
        # that never finish a body, or hold an event stream open, stall every redirect
        # behind them. Requests in flight are cheap tasks on our loop: allow thousands, and
        # let the deadlines (body, idle, stream caps) bound what each may hold.
        backlog=_BACKLOG,
        backpressure=settings.max_connections,
        log_enabled=True,
        log_dictconfig=_GRANIAN_LOGGING,
        # header_read_timeout: how long a connection may take to send a request's headers,
        # which also ends idle keep-alive connections (SCANLET_IDLE_TIMEOUT).
        http1_settings=HTTP1Settings(
            header_read_timeout=int(settings.idle_timeout * 1000),
            max_buffer_size=_GRANIAN_MAX_BUFFER,
        ),
    )
    # Granian's stop waits for every connection to finish, a slow client's as long as it
    # reads: one reading a large export held a SIGTERM for 210 s past a drain of 2 s. Our
    # own cancel of what is left comes first (``stop``); a second later granian gives up on
    # what its connections still hold to send (``_serve_until_stopped``).
    server.workers_kill_timeout = settings.shutdown_timeout + 1.0  # type: ignore[assignment]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        app.close_streams()
        server.stop()  # type: ignore[no-untyped-call]
        loop.call_later(settings.shutdown_timeout, in_flight.cancel_all)

    app.state.stop_server = stop
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    await lifespan.startup()  # type: ignore[no-untyped-call]
    if lifespan.interrupt:
        log.error("start-up failed", error=repr(lifespan.exc))
        return False
    # Granian's threads never preempt the loop's: see scanlet.serving.threads.
    batching = asyncio.create_task(keep_other_threads_batched())
    try:
        # A signal during start-up has stopped it already: it then returns at once.
        await _serve_until_stopped(server)
    finally:
        batching.cancel()
        await lifespan.shutdown()  # type: ignore[no-untyped-call]
    return _healthy(app)


async def _serve_until_stopped(server: Any) -> None:
    """``server.serve()``, where a stop that outlasts ``workers_kill_timeout`` is no error:
    granian then cancels its worker, and its wait for the worker raises ``TimeoutError``
    (an ``OSError``, which ``_run`` would take for a port it cannot listen on)."""
    try:
        await server.serve()
    except TimeoutError:
        log.warning("connections still sending after the drain; closed with the process")


def _healthy(app: Any) -> bool:
    """False when the app stopped because its actor system failed (exit non-zero)."""
    fatal = getattr(app.state, "fatal", None)
    if fatal is not None:
        log.critical("stopped after the actor system failed", error=repr(fatal))
        return False
    return True


#: Seconds uvicorn keeps connections it has accepted but not yet read a request from, after
#: it stops accepting, before its shutdown closes them as idle.
_UVICORN_ACCEPT_GRACE = 0.25


def _serve_uvicorn(settings: Settings, listener: socket.socket | None) -> bool:
    import uvicorn

    app = create_app(settings)
    in_flight = _track_slow_requests(app, asgi_server=True)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        fd=listener.fileno() if listener is not None else None,
        # uvicorn has no header-read timeout; this closes idle keep-alive connections.
        timeout_keep_alive=max(1, int(settings.idle_timeout)),
        loop="uvloop",
        http="httptools",
        backlog=_BACKLOG,
        # Past this many requests at once uvicorn answers 503 (granian queues instead).
        limit_concurrency=settings.max_connections,
        # uvicorn believes X-Forwarded-For from 127.0.0.1 by default; Scanlet reads proxy
        # headers itself, only from SCANLET_TRUSTED_PROXIES, the same under both servers.
        proxy_headers=False,
        forwarded_allow_ips="",
        lifespan="on",
        access_log=False,
        server_header=False,
        log_config=None,
        # Past the drain's deadline ``cut_all`` ends what is left; uvicorn's own cancel (a
        # traceback each) is only for a connection that could not be cut.
        timeout_graceful_shutdown=math.ceil(settings.shutdown_timeout) + 1,
    )

    class DrainingServer(uvicorn.Server):
        """uvicorn's shutdown closes every connection with no request in progress at once,
        including one accepted from the backlog an instant before whose request was not
        parsed yet: its client saw a reset (about one restart in four under a steady loop of
        scans, tests/test_handover.py), though with socket activation the next process could
        have served it. Stop accepting first, and give those connections a moment."""

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            app.close_streams()
            asyncio.get_running_loop().call_later(settings.shutdown_timeout, in_flight.cut_all)
            for listening in self.servers:
                listening.close()
            await asyncio.sleep(_UVICORN_ACCEPT_GRACE)
            await super().shutdown(sockets)

    server = DrainingServer(config)
    app.state.stop_server = lambda: setattr(server, "should_exit", True)
    # uvicorn restores the previous handlers and re-raises a caught signal once it has shut
    # down; with the defaults that would kill us with -SIGTERM (or KeyboardInterrupt) after
    # a perfectly clean drain. These stand-ins let the process exit 0 instead.
    signal.signal(signal.SIGTERM, _ignore)
    signal.signal(signal.SIGINT, _ignore)
    server.run()
    return bool(server.started) and _healthy(app)


def serve(settings: Settings) -> int:
    """Serve until SIGINT or SIGTERM; 0 after a clean drain, 1 if start-up failed."""
    configure_logging(settings.log_format, settings.log_level)
    configure_otel_from_env()
    try:
        listener = inherited_socket()
    except ConfigError as exc:
        print(f"scanlet: configuration error: {exc}", file=sys.stderr)
        return 2
    # A broken key file is the operator's to fix: one line now (the CLI prints a StorageError
    # so), not a lifespan traceback once the server is up. Missing is fine: start-up makes it.
    read_server_key(settings.server_key_file)
    # Handed a socket, we are a restart: the previous server drains and releases the lock.
    wait = 2 * settings.shutdown_timeout + 30 if listener is not None else 0.0
    if listener is not None:
        log.info("serving an inherited socket", address=str(listener.getsockname()))
    if settings.backend == "postgresql":
        # Any number of instances share a PostgreSQL database (they lead and listen there).
        return _run(settings, listener)
    lock = claim_serve_lock(settings.db, wait)
    if lock is None:
        print(f"scanlet: another scanlet serve is already using {settings.db}", file=sys.stderr)
        return 1
    try:
        return _run(settings, listener)
    finally:
        lock.close()


def _run(settings: Settings, listener: socket.socket | None = None) -> int:
    settle_garbage_collector()
    open_files_for(settings.max_connections)
    try:
        if settings.server == "uvicorn":
            started = _serve_uvicorn(settings, listener)
        else:
            import uvloop

            started = uvloop.run(_serve_granian(settings, listener))
    except OSError as exc:
        print(f"scanlet: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        return 1
    if not started:
        log.error(
            "server did not start, or stopped on a failure", host=settings.host, port=settings.port
        )
        return 1
    log.info("stopped")
    return 0
