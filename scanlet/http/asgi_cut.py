"""Streamed responses the app ends early, under an ASGI server: their connection is shut.

An ASGI app cannot abort a response. When it returns from a streamed one without its last
part (an event stream dropping a client too slow to read, an export cut off by the drain),
uvicorn closes the transport, which first flushes what it still holds for the client: one
that reads nothing more kept its connection, and with it the server's stop, open until
uvicorn's graceful timeout ran out (20 unread event streams: 10.54 s for a 10 s drain).
``CutShortResponses`` shuts such a connection down as the app returns, as the RSGI glue
does under granian (``scanlet.http.rsgi``), and waits for the server to see its client
gone, so that the response ends as one whose client left, not as the app's error.
"""

from __future__ import annotations

from typing import Any, Final

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scanlet.http.send_pacing import connection_of

__all__ = ("CutShortResponses", "cut_connection")

#: How long a cut response waits for the server to report its client gone.
_DISCONNECT_WAIT: Final = 1.0


def _tcp_address(address: Any) -> tuple[str, int] | None:
    """An ASGI scope's ``server`` or ``client`` as (host, port); None for anything else (a
    Unix socket's path, no address)."""
    if isinstance(address, (tuple, list)) and len(address) == 2:
        host, port = address
        if isinstance(host, str) and isinstance(port, int):
            return host, port
    return None


def cut_connection(scope: Scope) -> bool:
    """Shut down the TCP connection of the request ``scope``; False where the kernel cannot
    name it (not Linux or not TCP) or this process no longer holds it."""
    local, peer = _tcp_address(scope.get("server")), _tcp_address(scope.get("client"))
    connection = connection_of(local, peer)
    return connection is not None and connection.cut()


class CutShortResponses:
    """ASGI middleware: a streamed response the app leaves unfinished ends with its
    connection shut down (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        streaming = False  # a body part with more to come was sent, and no last one yet

        async def watched(message: Message) -> None:
            nonlocal streaming
            if message["type"] == "http.response.body":
                streaming = bool(message.get("more_body", False))
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except BaseException:
            if streaming:  # failed or cancelled part-way: the server will log it
                cut_connection(scope)
            raise
        if streaming and cut_connection(scope):
            await _disconnected(receive)


async def _disconnected(receive: Receive) -> None:
    """Wait (briefly) until the server reports the client gone."""
    with anyio.move_on_after(_DISCONNECT_WAIT):
        while (await receive())["type"] != "http.disconnect":
            pass
