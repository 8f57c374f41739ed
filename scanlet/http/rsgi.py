"""Granian's RSGI interface in front of the ASGI app: scans natively, the rest as ASGI.

Granian serves RSGI, its own interface, with less work per request than ASGI: no scope
dictionary of byte strings to build, no message dictionaries to read back (measured by
bench/served_instructions.py, granian included: 3.9 % fewer instructions a scan). Live
-code scans, most of what a QR server answers, take the scan front's RSGI entrance
(``ScanFastPath.rsgi``, the same rules as its ASGI one). Every other request goes to the
ASGI app through ``AsgiOverRsgi``, which translates one request: its body as it arrives,
the disconnect after it, the response whole or streamed (a streamed one's sends paced by the
client's reading, ``scanlet.http.send_pacing``).

Granian hands RSGI apps only header fields whose values are visible ASCII (it leaves out a
field holding other bytes, which RFC 9110 tells senders not to send); under ASGI the same
fields arrive as bytes. ``SCANLET_SERVER=uvicorn`` serves ASGI.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import structlog
from granian.rsgi import ProtocolClosed  # type: ignore[attr-defined]  # public, re-exported
from starlette.types import ASGIApp, Message

from scanlet.http.send_pacing import SendPacing

if TYPE_CHECKING:
    from granian._granian import RSGIHTTPProtocol, RSGIHTTPStreamTransport
    from granian.rsgi import Scope as RsgiScope

    from scanlet.http.app import ScanletApp

__all__ = ("AsgiOverRsgi", "RsgiEntrance", "as_bytes", "rsgi_address", "rsgi_host")

log = structlog.get_logger("scanlet.http")

# 2.3, as granian's own ASGI interface says: the app learns of a disconnect from
# ``receive``, and a send after it is dropped (2.4 would raise instead).
_ASGI = {"version": "3.0", "spec_version": "2.3"}
_DISCONNECT: Message = {"type": "http.disconnect"}


class RsgiEntrance:
    """The RSGI application granian serves: the scan front first, then the ASGI app."""

    def __init__(self, app: ScanletApp, state: dict[str, Any]) -> None:
        self._app = app
        self._state = state

    async def __rsgi__(self, scope: RsgiScope, protocol: RSGIHTTPProtocol) -> None:
        front = self._app.fast_path
        if front is not None and await front.rsgi(scope, protocol):
            return
        # What the scan front hands on (through its drain tracking), or the whole app.
        app = self._app.full_stack if front is None else front.app
        await AsgiOverRsgi(app, self._state)(scope, protocol)


class AsgiOverRsgi:
    """One RSGI request served by an ASGI app (HTTP only: the server has no WebSockets).

    ``state`` is the lifespan's state, copied into each request's scope as ASGI servers do.
    """

    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: RsgiScope, protocol: RSGIHTTPProtocol) -> None:
        exchange = _Exchange(protocol, scope)
        try:
            await self.app(_asgi_scope(scope, self.state), exchange.receive, exchange.send)
        except asyncio.CancelledError:
            # The drain's timeout cut the request off (scanlet.serving): it ends here, as
            # it would have under uvicorn, instead of granian logging it as the app's error.
            exchange.cut_short()
            return
        except Exception:
            # Starlette's own error middleware answers the app's errors: this is one in the
            # glue. A 500 when nothing was sent yet, as granian's ASGI interface does.
            log.exception("unhandled error serving a request", path=scope.path)
            if exchange.status is None:
                protocol.response_empty(500, [])
            exchange.cut_short()
            return
        if exchange.status is None:
            # The app ended without an answer: ASGI servers say 500.
            protocol.response_empty(500, [])
        else:
            # Nor its last part (an event stream ending for a client too slow to read):
            # ASGI servers close the connection.
            exchange.cut_short()


def _asgi_scope(scope: RsgiScope, state: dict[str, Any]) -> dict[str, Any]:
    """The ASGI scope of an RSGI request (no ``raw_path``: RSGI gives the path decoded)."""
    return {
        "type": "http",
        "asgi": _ASGI,
        "http_version": scope.http_version,
        "server": rsgi_address(scope.server),
        "client": rsgi_address(scope.client),
        "scheme": scope.scheme,
        "method": scope.method,
        "root_path": "",
        "path": scope.path,
        "query_string": as_bytes(scope.query_string),
        "headers": [(as_bytes(name), as_bytes(value)) for name, value in scope.headers.items()],
        "state": state.copy(),
    }


def as_bytes(text: str) -> bytes:
    """Text granian decoded, as the bytes it came as (UTF-8; never an error, whatever the
    text holds)."""
    return text.encode("utf-8", "surrogatepass")


def rsgi_address(text: str) -> tuple[str, int] | None:
    """RSGI's ``host:port`` (``[v6]:port``) as ASGI's ``(host, port)``; None if it is not
    one."""
    host, _, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not port.isdigit():
        return None
    return host, int(port)


def rsgi_host(text: str) -> str | None:
    """The host of RSGI's ``host:port``, as ``rsgi_address`` reads it (None where that is
    None), for the scan front, which needs no port: an IPv4 peer takes one partition."""
    host, _, port = text.rpartition(":")
    if "[" not in host and "." in host and port.isdigit():
        return host
    found = rsgi_address(text)
    return None if found is None else found[0]


class _Exchange:
    """ASGI's ``receive`` and ``send`` for one RSGI request."""

    __slots__ = (
        "_body",
        "_chunks",
        "_complete",
        "_gone",
        "_pacing",
        "_protocol",
        "_scope",
        "_stream",
        "headers",
        "status",
    )

    def __init__(self, protocol: RSGIHTTPProtocol, scope: RsgiScope) -> None:
        self._protocol = protocol
        self._scope = scope
        self._pacing: SendPacing | None = None
        self._chunks: Any = None
        self._body = True  # the body is still being read
        self._stream: RSGIHTTPStreamTransport | None = None
        self._gone = False  # the client closed the connection during a streamed response
        self._complete = False  # the streamed response's last part was sent
        self.status: int | None = None
        self.headers: list[tuple[str, str]] = []

    async def receive(self) -> Message:
        """The body as it arrives, then (once it is all read) waits for the disconnect."""
        if self._body:
            if self._chunks is None:
                self._chunks = self._protocol.__aiter__()
            try:
                chunk: bytes = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._body = False
                return {"type": "http.request", "body": b"", "more_body": False}
            except ProtocolClosed:
                self._body = False
                return _DISCONNECT
            return {"type": "http.request", "body": chunk, "more_body": True}
        await self._protocol.client_disconnect()
        return _DISCONNECT

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            self.headers = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in message.get("headers", ())
            ]
            return
        if kind != "http.response.body" or self.status is None:
            raise RuntimeError(f"unexpected ASGI message {kind!r}")
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        self._complete = not more
        stream = self._stream
        if stream is None:
            if not more:
                self._protocol.response_bytes(self.status, self.headers, body)
                return
            scope = self._scope
            self._pacing = SendPacing.start(rsgi_address(scope.server), rsgi_address(scope.client))
            stream = self._stream = self._protocol.response_stream(self.status, self.headers)
        if self._gone:
            # Dropped, as ASGI 2.3 servers do; ``receive`` says the client is gone. The
            # turn given up lets the app's disconnect listener run: a stream with events
            # to catch up on would otherwise send them all first, every send dropped.
            await asyncio.sleep(0)
            return
        if body:
            try:
                await stream.send_bytes(body)
            except ProtocolClosed:
                self._gone = True
                return
            if self._pacing is not None and not await self._pacing.sent(len(body)):
                self._gone = True

    def cut_short(self) -> None:
        """End a streamed response that the app did not finish by closing its connection,
        as ASGI servers do: granian would end the body as if complete (its last chunk), and
        a client would take a truncated export for a whole one."""
        if self._stream is None or self._complete or self._gone:
            return
        connection = None if self._pacing is None else self._pacing.connection
        if connection is None or not connection.cut():
            log.warning("a streamed response ended early may look complete to its client")
