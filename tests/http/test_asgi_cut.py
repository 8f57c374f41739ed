"""``CutShortResponses``: under an ASGI server, a streamed response the app leaves
unfinished (returning, raising or cancelled) ends with its connection shut down; a finished
one is left alone."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import MutableMapping
from typing import Any

import pytest

from scanlet.http.asgi_cut import CutShortResponses, cut_connection
from scanlet.http.send_pacing import connection_of
from tests.http.conftest import UNFINISHED, streamed_app

Message = dict[str, Any]


def _scope(client: socket.socket, accepted: socket.socket) -> dict[str, Any]:
    """An ASGI scope naming the real connection's two ends."""
    return {"type": "http", "server": accepted.getsockname(), "client": client.getsockname()}


class _Server:
    """What the ASGI server sees: messages sent, and how often the app asked to receive."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.receives = 0

    async def receive(self) -> Message:
        self.receives += 1
        return {"type": "http.disconnect"}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.sent.append(dict(message))


async def _whole_body(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"all of it"})


@pytest.mark.parametrize("ending", UNFINISHED)
async def test_a_streamed_response_left_unfinished_closes_its_connection(
    connection: tuple[socket.socket, socket.socket], ending: str
) -> None:
    client, accepted = connection
    if connection_of(accepted.getsockname(), client.getsockname()) is None:
        pytest.skip("the kernel's socket diagnostics are unavailable here")
    server = _Server()
    app = CutShortResponses(streamed_app(ending))
    if ending == "returns":
        await app(_scope(client, accepted), server.receive, server.send)
        assert server.receives == 1  # it waited for the server to see the client gone
    else:
        with pytest.raises((RuntimeError, asyncio.CancelledError)):
            await app(_scope(client, accepted), server.receive, server.send)
    assert [m["type"] for m in server.sent] == ["http.response.start", "http.response.body"]
    assert client.recv(16) == b""  # shut down: the client reads the connection's end


async def test_a_finished_stream_and_a_whole_body_keep_their_connection(
    connection: tuple[socket.socket, socket.socket],
) -> None:
    client, accepted = connection
    for app in (streamed_app("finishes"), _whole_body):
        server = _Server()
        await CutShortResponses(app)(_scope(client, accepted), server.receive, server.send)
        assert server.receives == 0
    accepted.sendall(b"still open")
    assert client.recv(16) == b"still open"


async def test_without_a_tcp_address_nothing_is_cut_and_nothing_waits() -> None:
    server = _Server()
    scope = {"type": "http", "server": ("/run/scanlet.sock", None), "client": None}
    await CutShortResponses(streamed_app("returns"))(scope, server.receive, server.send)
    assert server.receives == 0
    assert cut_connection(scope) is False
