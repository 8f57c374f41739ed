"""``AsgiOverRsgi``: one RSGI request served by an ASGI app, with a stand-in for granian's
protocol object (the served tests in tests/test_rsgi_entrance.py use the real one)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from granian._granian import RSGIProtocolClosed
from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from scanlet.http.rsgi import AsgiOverRsgi, rsgi_address, rsgi_host

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


class PipeReader:
    """Granian's side of a piped body: reads the file it was given, on a thread of its own,
    as a client would take it; after ``closed_after`` bytes it closes (the client left)."""

    def __init__(self, path: str, closed_after: int | None) -> None:
        self.received = bytearray()
        self.closed_after = closed_after
        self.closed = threading.Event()
        self.reading = threading.Event()
        self.reading.set()
        self._thread = threading.Thread(target=self._read, args=(path,))
        self._thread.start()

    def _read(self, path: str) -> None:
        with open(path, "rb", buffering=0) as pipe:
            while self.closed_after is None or len(self.received) < self.closed_after:
                self.reading.wait()
                size = 1 if self.closed_after is not None else 65536
                chunk = pipe.read(size)
                if not chunk:
                    break
                self.received += chunk
        self.closed.set()

    def join(self) -> None:
        self._thread.join(timeout=10)
        assert not self._thread.is_alive(), "the body never ended"


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
        self.reader: PipeReader | None = None
        self.disconnected = anyio.Event()

    @property
    def sent(self) -> bytes:
        """The streamed body as the client got it, once it has ended."""
        assert self.reader is not None
        self.reader.join()
        return bytes(self.reader.received)

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

    def response_file(self, status: int, headers: list[tuple[str, str]], path: str) -> None:
        self.answers.append(("file", status, headers, None))
        self.reader = PipeReader(path, self.closed_after)


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
    protocol = Protocol(closed_after=2)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal sends
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for n in range(5):
            await send({"type": "http.response.body", "body": b"%d" % n, "more_body": True})
            sends += 1
            if n == 1:
                assert protocol.reader is not None
                await anyio.to_thread.run_sync(protocol.reader.closed.wait)
        await send({"type": "http.response.body", "body": b""})

    await serve(app, protocol)
    assert protocol.sent == b"01"
    assert sends == 5  # the sends after the client left were dropped, not raised
    assert [answer[0] for answer in protocol.answers] == ["file"]


async def test_a_piped_body_whose_client_left_stops_the_app_making_it() -> None:
    """Granian does not say that a client left a piped body; the failed write does, and
    ``receive`` passes it on, so an endless response stops instead of running for nobody."""
    made = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal made
        while True:
            made += 1
            yield b"x" * 1000

    protocol = Protocol(closed_after=5)
    with anyio.fail_after(10):
        await serve(StreamingResponse(endless()), protocol)
    assert protocol.sent == b"xxxxx"
    assert made < 1000  # a pipe's worth and a little more, not forever


async def test_a_streamed_body_waits_while_the_client_does_not_read() -> None:
    body = b"x" * 4_000_000
    protocol = Protocol()
    written = anyio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        assert not protocol.answers  # the first part of the body starts the response
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        assert protocol.reader is not None
        protocol.reader.reading.clear()  # the client stops reading
        await send({"type": "http.response.body", "body": body, "more_body": True})
        written.set()
        await send({"type": "http.response.body", "body": b""})

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(serve, app, protocol)
        with anyio.move_on_after(0.5):
            await written.wait()
        # Nothing read, so the body cannot all have been taken: it waits in the app.
        assert not written.is_set()
        assert protocol.reader is not None
        protocol.reader.reading.set()
    assert written.is_set()
    assert protocol.sent == body


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
    assert protocol.answers == [("file", 200, [], None)]
    assert protocol.sent == b"part"  # and the body ended: the reader saw its end


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
