"""``AsgiOverRsgi``: one RSGI request served by an ASGI app, with a stand-in for granian's
protocol object (the served tests in tests/test_rsgi_entrance.py use the real one)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from granian._granian import RSGIProtocolClosed
from starlette.types import Message, Receive, Scope, Send

from scanlet.http.rsgi import AsgiOverRsgi, rsgi_address, rsgi_host
from tests.http.conftest import UNFINISHED, streamed_app

pytestmark = pytest.mark.anyio


class Headers:
    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self.fields = fields

    def items(self) -> list[tuple[str, str]]:
        return list(self.fields)


class RsgiScope:
    proto = "http"
    http_version = "1.1"
    scheme = "http"
    server = "127.0.0.1:8000"

    def __init__(self, method: str = "GET", path: str = "/x", query: str = "") -> None:
        self.method = method
        self.path = path
        self.query_string = query
        self.client = "[2001:db8::1]:5555"
        self.headers = Headers([("host", "a"), ("x-name", "caf\u00e9")])


class Stream:
    def __init__(self, protocol: Protocol, closed_after: int | None) -> None:
        self.protocol = protocol
        self.closed_after = closed_after

    async def send_bytes(self, data: bytes) -> None:
        if self.closed_after is not None and len(self.protocol.sent) >= self.closed_after:
            raise RSGIProtocolClosed("RSGI transport is closed")
        self.protocol.sent.append(data)


class Protocol:
    """Records what granian would send; its body arrives in ``chunks``."""

    def __init__(
        self,
        chunks: list[bytes] | None = None,
        closed_after: int | None = None,
        body_cut: bool = False,
    ):
        self.chunks = chunks or []
        self.body_cut = body_cut
        self.closed_after = closed_after
        self.answers: list[tuple[str, int, list[tuple[str, str]], bytes | None]] = []
        self.sent: list[bytes] = []
        self.disconnected = anyio.Event()

    def __aiter__(self) -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            for chunk in self.chunks:
                yield chunk
            if self.body_cut:
                raise RSGIProtocolClosed("RSGI transport is closed")

        return chunks()

    async def client_disconnect(self) -> None:
        await self.disconnected.wait()

    def response_empty(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.answers.append(("empty", status, headers, None))

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.answers.append(("bytes", status, headers, body))

    def response_stream(self, status: int, headers: list[tuple[str, str]]) -> Stream:
        self.answers.append(("stream", status, headers, None))
        return Stream(self, self.closed_after)


async def serve(app: Any, protocol: Protocol, scope: RsgiScope | None = None) -> None:
    await AsgiOverRsgi(app, {"shared": 1})(scope or RsgiScope(), protocol)  # type: ignore[arg-type]


async def test_the_scope_and_body_arrive_as_asgi_says() -> None:
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen["scope"] = scope
        messages = [await receive()]
        while messages[-1].get("more_body"):
            messages.append(await receive())
        seen["body"] = b"".join(message["body"] for message in messages)
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-a", b"b")]})
        await send({"type": "http.response.body", "body": b"made"})

    protocol = Protocol([b"he", b"llo", b""])
    await serve(app, protocol, RsgiScope("POST", "/a b", "q=%20&r=\u00e9"))
    scope = seen["scope"]
    assert scope["method"] == "POST"
    assert scope["path"] == "/a b"
    assert scope["query_string"] == "q=%20&r=\u00e9".encode()
    assert scope["client"] == ("2001:db8::1", 5555)
    assert scope["server"] == ("127.0.0.1", 8000)
    assert scope["headers"] == [(b"host", b"a"), (b"x-name", "caf\u00e9".encode())]
    assert scope["state"] == {"shared": 1}
    assert seen["body"] == b"hello"
    assert protocol.answers == [("bytes", 201, [("x-a", "b")], b"made")]


async def test_after_the_body_receive_waits_for_the_disconnect() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert (await receive())["more_body"] is False
        protocol.disconnected.set()
        assert await receive() == {"type": "http.disconnect"}
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    protocol = Protocol()
    await serve(app, protocol)
    assert protocol.answers == [("bytes", 204, [], b"")]


async def test_a_body_cut_short_is_a_disconnect() -> None:
    received: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        received.extend([await receive(), await receive()])

    protocol = Protocol([b"par"], body_cut=True)
    await serve(app, protocol)
    assert received == [
        {"type": "http.request", "body": b"par", "more_body": True},
        {"type": "http.disconnect"},
    ]
    assert protocol.answers == [("empty", 500, [], None)]  # the app answered nothing


async def test_a_streamed_response_to_a_client_gone_ends_quietly() -> None:
    sends = 0

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal sends
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for n in range(5):
            await send({"type": "http.response.body", "body": b"%d" % n, "more_body": True})
            sends += 1
        await send({"type": "http.response.body", "body": b""})

    protocol = Protocol(closed_after=2)
    await serve(app, protocol)
    assert protocol.sent == [b"0", b"1"]
    assert sends == 5  # the sends after the client left were dropped, not raised
    assert [answer[0] for answer in protocol.answers] == ["stream"]


async def test_sends_dropped_after_the_client_left_let_a_disconnect_listener_run() -> None:
    """An app with sends always ready (a stream catching up on a backlog) still hears of
    the disconnect: each dropped send gives up the loop's turn."""
    dropped = 0
    heard: list[bool] = []
    SENDS = 10_000

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal dropped
        await send({"type": "http.response.start", "status": 200, "headers": []})
        async with anyio.create_task_group() as group:

            async def listen() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass  # the (empty) body first, as Starlette's listener reads it
                heard.append(True)
                group.cancel_scope.cancel()

            group.start_soon(listen)
            await anyio.lowlevel.checkpoint()  # the listener waits for the disconnect
            protocol.disconnected.set()
            for _ in range(SENDS):
                await send({"type": "http.response.body", "body": b"x", "more_body": True})
                dropped += 1

    protocol = Protocol(closed_after=2)
    await serve(app, protocol)
    assert protocol.sent == [b"x", b"x"]
    assert heard == [True]
    assert 2 <= dropped < SENDS


@pytest.mark.parametrize("failure", ["raises", "answers nothing"])
async def test_an_app_that_fails_before_answering_is_a_500(failure: str) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if failure == "raises":
            raise RuntimeError("a bug in the glue")

    protocol = Protocol()
    await serve(app, protocol)
    assert protocol.answers == [("empty", 500, [], None)]


async def test_an_app_that_fails_mid_stream_sends_nothing_more() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        message: Message = {"type": "http.response.start", "status": 200, "headers": []}
        await send(message)
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise RuntimeError("a bug in the glue")

    protocol = Protocol()
    await serve(app, protocol)
    assert protocol.answers == [("stream", 200, [], None)]
    assert protocol.sent == [b"part"]


@pytest.mark.parametrize(
    "text",
    [
        "127.0.0.1:50000",
        "203.0.113.7:1",
        "[::1]:8080",
        "[2001:db8::7]:443",
        "[::ffff:203.0.113.7]:40000",
        "10.0.0.1:",
        "10.0.0.1:x",
        ":80",
        "",
        "no-port",
        "host.example:80",
        "[]:80",
    ],
)
def test_the_fronts_peer_host_is_the_host_of_its_address(text: str) -> None:
    address = rsgi_address(text)
    assert rsgi_host(text) == (None if address is None else address[0])


def scope_of(client: socket.socket, accepted: socket.socket) -> RsgiScope:
    """A request's scope naming the real connection's two ends."""
    scope = RsgiScope()
    scope.server = "{}:{}".format(*accepted.getsockname())
    scope.client = "{}:{}".format(*client.getsockname())
    return scope


@pytest.mark.parametrize("ending", UNFINISHED)
async def test_a_streamed_response_left_unfinished_closes_its_connection(
    connection: tuple[socket.socket, socket.socket], ending: str
) -> None:
    """Granian would end the body as if whole: the client must see it end early."""
    client, accepted = connection
    await serve(streamed_app(ending), Protocol(), scope_of(client, accepted))
    assert client.recv(10) == b""  # the end, before any last chunk


async def test_a_finished_streamed_response_keeps_its_connection(
    connection: tuple[socket.socket, socket.socket],
) -> None:
    client, accepted = connection
    await serve(streamed_app("finishes"), Protocol(), scope_of(client, accepted))
    with pytest.raises(TimeoutError):
        client.recv(10)  # open: nothing came, and no end
