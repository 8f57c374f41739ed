"""``ConnectionProbe``: what the kernel says a TCP connection has been written, on real
loopback connections (Linux's sock_diag; the suite's machines have it)."""

from __future__ import annotations

import gc
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from scanlet.http import tcp_sent
from scanlet.http.tcp_sent import ConnectionProbe


@pytest.fixture
def probe() -> Iterator[ConnectionProbe]:
    opened = ConnectionProbe.open()
    assert opened is not None, "this Linux answers sock_diag (ss reads it)"
    yield opened
    opened.close()


@contextmanager
def connected(
    host: str = "127.0.0.1", family: int = socket.AF_INET, dual_stack: bool = False
) -> Iterator[tuple[socket.socket, socket.socket, socket.socket]]:
    """A listener, a client with a small receive buffer, and the accepted socket."""
    with socket.socket(family) as listener:
        if dual_stack:
            listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        listener.bind((host, 0))
        listener.listen()
        port = listener.getsockname()[1]
        target = "127.0.0.1" if dual_stack else host
        with socket.socket(socket.AF_INET if dual_stack else family) as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            client.connect((target, port))
            accepted, _ = listener.accept()
            with accepted:
                yield listener, client, accepted


def read_exactly(sock: socket.socket, size: int) -> bytes:
    got = bytearray()
    while len(got) < size:
        chunk = sock.recv(size - len(got))
        assert chunk
        got += chunk
    return bytes(got)


def fill(sock: socket.socket) -> int:
    """Write until the kernel takes no more (the peer reads nothing): bytes written."""
    sock.setblocking(False)
    written = 0
    try:
        while True:
            written += sock.send(b"y" * 65536)
    except BlockingIOError:
        pass
    finally:
        sock.setblocking(True)
    return written


def test_it_counts_every_byte_written_read_or_not(probe: ConnectionProbe) -> None:
    with connected() as (_, client, accepted):
        connection = probe.connection(accepted.getsockname(), client.getsockname())
        assert connection is not None
        assert connection.written() == 0
        accepted.sendall(b"x" * 100_000)
        assert read_exactly(client, 100_000) == b"x" * 100_000
        assert connection.written() == 100_000
        # Unread: acknowledged or still in the send queue, every byte is counted.
        stuck = fill(accepted)
        assert stuck > 0
        assert connection.written() == 100_000 + stuck


def test_a_wildcard_listener_still_finds_the_connection(probe: ConnectionProbe) -> None:
    with connected() as (listener, client, accepted):
        port = listener.getsockname()[1]
        connection = probe.connection(("0.0.0.0", port), client.getsockname())
        assert connection is not None
        accepted.sendall(b"z" * 10)
        assert connection.written() == 10


def test_ipv6_and_an_ipv4_peer_of_a_dual_stack_listener(probe: ConnectionProbe) -> None:
    with connected("::1", socket.AF_INET6) as (_, client, accepted):
        connection = probe.connection(accepted.getsockname()[:2], client.getsockname()[:2])
        assert connection is not None
        accepted.sendall(b"6" * 7)
        assert connection.written() == 7
    with connected("::", socket.AF_INET6, dual_stack=True) as (listener, client, accepted):
        port = listener.getsockname()[1]
        # Granian may name the peer either way.
        for peer in (
            client.getsockname(),
            ("::ffff:" + client.getsockname()[0], client.getsockname()[1]),
        ):
            connection = probe.connection(("::", port), peer)
            assert connection is not None, peer
        accepted.sendall(b"4" * 5)
        assert connection.written() == 5


def test_no_connection_is_none_and_never_the_listener(probe: ConnectionProbe) -> None:
    with connected() as (listener, client, accepted):
        # The kernel's exact lookup falls back to the listening socket: not a connection.
        assert probe.connection(listener.getsockname(), ("127.0.0.1", 1)) is None
        assert probe.connection(listener.getsockname(), ("not an address", 1)) is None
        connection = probe.connection(accepted.getsockname(), client.getsockname())
        assert connection is not None
        client.close()
        accepted.close()
    assert connection.written() is None


#: A loopback address of this test's own for the client's end: an ephemeral port freed on
#: 127.0.0.1 may be taken by any other test's connection before it is bound again (seen in
#: CI: EADDRINUSE), while on this address only a wildcard listener on that port could be.
_OWN_CLIENT_HOST = "127.31.41.59"


def test_a_later_connection_on_the_same_addresses_is_another(probe: ConnectionProbe) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        local = listener.getsockname()
        with socket.socket() as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            client.bind((_OWN_CLIENT_HOST, 0))
            client.connect(local)
            peer = client.getsockname()
            accepted, _ = listener.accept()
            with accepted:
                connection = probe.connection(local, peer)
                assert connection is not None
                linger = b"\x01\x00\x00\x00\x00\x00\x00\x00"
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                client.close()  # a reset: the four addresses are free at once
        with socket.socket() as again:
            again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            again.bind(peer)
            again.connect(local)
            second, _ = listener.accept()
            with second:
                second.sendall(b"new")
                assert probe.connection(local, peer) is not None
                assert connection.written() is None


def test_cut_ends_the_connection_under_whoever_holds_it(probe: ConnectionProbe) -> None:
    with connected() as (_, client, accepted):
        connection = probe.connection(accepted.getsockname(), client.getsockname())
        assert connection is not None
        accepted.sendall(b"part")
        assert connection.cut()
        assert read_exactly(client, 4) == b"part"
        assert client.recv(10) == b""  # the end, early: no more of the response comes
        with pytest.raises(BrokenPipeError):
            accepted.sendall(b"more")
    assert not connection.cut()  # this process holds no such socket any more


def test_a_second_address_of_this_host_costs_one_dump(
    probe: ConnectionProbe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that reached a wildcard listener on 127.0.0.2 is found by a dump, which
    walks the kernel's whole table; the next connection there is found without one."""
    dumps: list[int] = []
    dump = probe._first

    def counted(family: int, filter_: bytes) -> object:
        dumps.append(family)
        return dump(family, filter_)

    monkeypatch.setattr(probe, "_first", counted)
    with socket.create_server(("0.0.0.0", 0)) as listener:
        port = listener.getsockname()[1]
        for _ in range(3):
            with socket.create_connection(("127.0.0.2", port)) as client:
                accepted, _ = listener.accept()
                with accepted:
                    connection = probe.connection(("0.0.0.0", port), client.getsockname())
                    assert connection is not None
                    accepted.sendall(b"abc")
                    assert connection.written() == 3
    assert dumps == [socket.AF_INET]


def test_a_burst_of_cuts_lists_the_descriptors_once(
    probe: ConnectionProbe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A drain may cut hundreds of responses at once: one listing of /proc/self/fd (a
    readlink a descriptor) serves them all."""
    listings: list[int] = []
    list_sockets = tcp_sent._list_sockets

    def counted() -> dict[int, int]:
        found = list_sockets()
        listings.append(len(found))
        return found

    monkeypatch.setattr(tcp_sent, "_list_sockets", counted)
    monkeypatch.setattr(tcp_sent, "_SOCKETS", tcp_sent._SocketDescriptors())
    with socket.create_server(("127.0.0.1", 0)) as listener, ExitStack() as stack:
        pairs = []
        for _ in range(50):
            client = stack.enter_context(socket.create_connection(listener.getsockname()))
            accepted = stack.enter_context(listener.accept()[0])
            pairs.append((client, accepted))
        connections = [
            probe.connection(accepted.getsockname(), client.getsockname())
            for client, accepted in pairs
        ]
        assert all(connection is not None and connection.cut() for connection in connections)
        assert all(client.recv(1) == b"" for client, _ in pairs)
    assert len(listings) == 1


def test_a_listener_on_its_own_address_needs_no_further_guess(
    probe: ConnectionProbe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The route's source address costs a socket of its own: asked only when the
    listener's address (a wildcard) cannot be the connection's."""
    asked: list[str] = []

    def source_for(family: int, host: str) -> str | None:
        asked.append(host)
        return "127.0.0.1"

    monkeypatch.setattr(tcp_sent, "_source_for", source_for)
    with connected() as (listener, client, _):
        assert probe.connection(listener.getsockname(), client.getsockname()) is not None
        assert asked == []
        port = listener.getsockname()[1]
        assert probe.connection(("0.0.0.0", port), client.getsockname()) is not None
        assert asked == ["127.0.0.1"]


def test_a_threads_probe_is_closed_when_the_thread_ends() -> None:
    # Send pacing keeps a probe in each loop thread's locals; a test's or a portal's thread
    # that ends must not leave its netlink socket to the collector.
    from scanlet.http import send_pacing

    opened: list[socket.socket] = []

    def loop_thread() -> None:
        probe = send_pacing._probe()
        assert probe is not None
        opened.append(probe._sock)

    thread = threading.Thread(target=loop_thread)
    thread.start()
    thread.join()
    gc.collect()
    [sock] = opened
    assert sock.fileno() == -1


def test_closing_a_probe_twice_is_harmless(probe: ConnectionProbe) -> None:
    probe.close()
    probe.close()
    assert probe._sock.fileno() == -1
