"""How much of a response the kernel has taken: flow control for streamed RSGI bodies.

Granian's RSGI ``response_stream`` queues whatever the app sends, without bound (granian
2.8.9), and its ``send_bytes`` never waits: a client that reads slowly, or not at all, makes
the server keep every byte meant for it. ASGI servers make ``send`` wait instead (uvicorn
above 64 KiB unwritten). This module gives the RSGI glue the same wait, from the one place
that knows how far a connection has got: the kernel. Linux's ``sock_diag`` netlink interface
(what ``ss`` reads) answers, for one TCP connection, how many bytes its peer acknowledged
(``tcp_info.tcpi_bytes_acked``) and how many wait in its send queue (``idiag_wqueue``); their
sum is everything granian has written to the socket. What the app sent less that is what
still sits in granian's queue.

No privilege is needed. Where netlink is unavailable (not Linux, a sandbox without it, a
Unix-socket listener, whose peer is no IP address) no connection is found and bodies stream
unpaced, as before.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import time
import weakref
from collections import deque
from collections.abc import Iterator
from typing import Final

__all__ = ("ConnectionProbe", "SentBytes")

_NETLINK_SOCK_DIAG: Final = 4
_SOCK_DIAG_BY_FAMILY: Final = 20
_NLM_F_REQUEST: Final = 0x1
_NLM_F_DUMP: Final = 0x300
_NLMSG_ERROR: Final = 2
_NLMSG_DONE: Final = 3
_INET_DIAG_REQ_BYTECODE: Final = 1
_INET_DIAG_INFO: Final = 2
_INET_DIAG_BC_S_COND: Final = 7
_INET_DIAG_BC_D_COND: Final = 8
_NO_COOKIE: Final = 0xFFFFFFFF
_ALL_STATES: Final = 0xFFFFFFFF

_HEADER = struct.Struct("=IHHII")  # nlmsghdr
_REQUEST = struct.Struct("=BBBxI")  # inet_diag_req_v2 up to its socket id
_ATTR = struct.Struct("=HH")  # rtattr
_OP = struct.Struct("=BBH")  # inet_diag_bc_op
_HOSTCOND = struct.Struct("=BBxxi")  # inet_diag_hostcond before its address
_QUEUES = struct.Struct("=II")  # inet_diag_msg's idiag_rqueue, idiag_wqueue
_U64 = struct.Struct("=Q")
_ERRNO = struct.Struct("=i")  # nlmsgerr's error, negative
_PORTS = struct.Struct("!HH")
_ANY_SOCKET: Final = struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE)  # any interface, no cookie
_WILDCARDS: Final = frozenset(("0.0.0.0", "::"))
_SEEN_ADDRESSES: Final = 8
_SOCKID_AT: Final = 4  # in inet_diag_msg: after family, state, timer, retrans
_SOCKID_SIZE: Final = 48  # ports, two 16-byte addresses, interface, cookie
_QUEUES_AT: Final = _SOCKID_AT + _SOCKID_SIZE + 4  # after idiag_expires
_INODE = struct.Struct("=I")
_INODE_AT: Final = _QUEUES_AT + 12  # after the queues and idiag_uid
_MSG_SIZE: Final = 72
_BYTES_ACKED_AT: Final = 120  # tcp_info.tcpi_bytes_acked (Linux 4.1 and later)


class SentBytes:
    """One TCP connection, as the kernel knows it: ``written()`` is every byte the server
    has written to it since it opened (acknowledged or still queued)."""

    __slots__ = ("_family", "_inode", "_probe", "_sockid")

    def __init__(self, probe: ConnectionProbe, family: int, sockid: bytes, inode: int) -> None:
        self._probe = probe
        self._family = family
        # Kept whole, cookie included: a later connection on the same four addresses is
        # another socket, and the kernel answers "not found" for it.
        self._sockid = sockid
        self._inode = inode

    def written(self) -> int | None:
        """Bytes written to the connection so far; None once it is gone. Raises OSError if
        the kernel could not say."""
        return self._probe.written(self._family, self._sockid)

    def local_address(self, family: int) -> bytes:
        """This end's address, packed as ``family`` packs it (an IPv4-mapped one as IPv4)."""
        own = self._sockid[4:20]
        if family == socket.AF_INET:
            return own[12:16] if self._family == socket.AF_INET6 else own[:4]
        return own

    def cut(self) -> bool:
        """Shut the connection down (both ways) from this process, under the server that
        holds it, so that its client sees the response end early rather than complete.
        False if this process holds no such socket any more."""
        for fresh in (False, True):
            descriptor = _SOCKETS.find(self._inode, fresh=fresh)
            if descriptor is None:
                continue
            try:
                copy = os.dup(descriptor)
            except OSError:
                continue  # closed since the listing
            try:
                # The number may have been reused since the listing.
                if os.fstat(copy).st_ino != self._inode:
                    continue
                with socket.socket(fileno=os.dup(copy)) as sock:
                    sock.shutdown(socket.SHUT_RDWR)
                return True
            except OSError:
                return False
            finally:
                os.close(copy)
        return False


class _SocketDescriptors:
    """This process's socket descriptors by inode, listed from ``/proc/self/fd``: a
    readlink each, so one listing serves the cuts of a burst (a drain that cancels many
    streamed responses at once) for ``_LISTING_LIFETIME`` seconds."""

    def __init__(self) -> None:
        self._by_inode: dict[int, int] = {}
        self._listed_at = -_LISTING_LIFETIME

    def find(self, inode: int, *, fresh: bool) -> int | None:
        """The descriptor of the socket ``inode``, listing again if ``fresh`` or old."""
        now = time.monotonic()
        if fresh or now - self._listed_at > _LISTING_LIFETIME:
            self._by_inode = _list_sockets()
            self._listed_at = now
        return self._by_inode.get(inode)


def _list_sockets() -> dict[int, int]:
    found: dict[int, int] = {}
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return found
    for name in names:
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            found[int(target[8:-1])] = int(name)
    return found


_LISTING_LIFETIME: Final = 1.0
_SOCKETS = _SocketDescriptors()


class ConnectionProbe:
    """A ``sock_diag`` netlink socket of this process, used from the event loop's thread
    (each question is one ``send`` and one ``recv`` that the kernel answers at once)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        # A probe lives in a thread's locals and goes with the thread: its socket is closed
        # then, not left to the collector (which warns of an unclosed socket).
        self._closing = weakref.finalize(self, sock.close)
        self._seq = 0
        #: This host's addresses that connections were found on by a dump, by family.
        self._seen: dict[int, deque[bytes]] = {}

    @classmethod
    def open(cls) -> ConnectionProbe | None:
        """The probe, or None where this kernel does not answer (logged once by the caller)."""
        family = getattr(socket, "AF_NETLINK", None)
        if family is None:
            return None
        try:
            sock = socket.socket(family, socket.SOCK_RAW, _NETLINK_SOCK_DIAG)
        except OSError:
            return None
        # The kernel answers during ``send``; the timeout only bounds a kernel that does not.
        sock.settimeout(1.0)
        return cls(sock)

    def close(self) -> None:
        self._closing()

    def connection(self, local: tuple[str, int], peer: tuple[str, int]) -> SentBytes | None:
        """The connection from ``peer`` to ``local``, or None if there is none (or an
        address is not an IP address).

        The listener's address is only a first guess at the connection's own: granian names
        ``0.0.0.0`` for a wildcard. The next is the address this host would send from to
        the peer; the last, a dump of every socket with that peer and local port, filtered
        in the kernel, but which walks the kernel's whole table (about 2 ms).
        """
        try:
            return self._find(local, peer)
        except OSError:
            return None

    def _find(self, local: tuple[str, int], peer: tuple[str, int]) -> SentBytes | None:
        host, port = peer
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            address = socket.inet_pton(family, host)
        except OSError:
            return None
        seen = self._seen.setdefault(family, deque(maxlen=_SEEN_ADDRESSES))
        for own in _guesses(family, local[0], host, seen):
            sockid = (
                _PORTS.pack(local[1], port)
                + own.ljust(16, b"\0")
                + address.ljust(16, b"\0")
                + _ANY_SOCKET
            )
            found = self._exact(family, sockid)
            if found is not None:
                return found
        filter_ = _bytecode(family, address, port, local[1])
        # An IPv4 peer of a dual-stack listener has an IPv6 socket (a mapped address),
        # which the kernel's filter matches by the IPv4 condition.
        kinds = (family,) if family == socket.AF_INET6 else (family, socket.AF_INET6)
        for dumped in kinds:
            found = self._first(dumped, filter_)
            if found is not None:
                # Where the guesses missed (a second address of this host), the next
                # connection to the same address is found without a dump.
                seen.append(found.local_address(family))
                return found
        return None

    def _exact(self, family: int, sockid: bytes) -> SentBytes | None:
        request = _REQUEST.pack(family, socket.IPPROTO_TCP, 0, _ALL_STATES)
        for kind, body in self._ask(request + sockid, _NLM_F_REQUEST):
            # The kernel's lookup falls back to a listening socket, which has no peer.
            found = body[_SOCKID_AT : _SOCKID_AT + _SOCKID_SIZE]
            if (
                kind == _SOCK_DIAG_BY_FAMILY
                and len(body) >= _MSG_SIZE
                and found[2:4] == sockid[2:4]
            ):
                return _connection(self, body)
        return None

    def _first(self, family: int, filter_: bytes) -> SentBytes | None:
        request = _REQUEST.pack(family, socket.IPPROTO_TCP, 0, _ALL_STATES) + bytes(_SOCKID_SIZE)
        attr = _ATTR.pack(_ATTR.size + len(filter_), _INET_DIAG_REQ_BYTECODE) + filter_
        found: SentBytes | None = None
        for kind, body in self._ask(request + attr, _NLM_F_REQUEST | _NLM_F_DUMP):
            if kind == _SOCK_DIAG_BY_FAMILY and found is None and len(body) >= _MSG_SIZE:
                found = _connection(self, body)
        return found

    def written(self, family: int, sockid: bytes) -> int | None:
        """Acknowledged plus queued bytes of one socket, by its exact id; None if the kernel
        has no such socket. Raises OSError if it could not say."""
        request = _REQUEST.pack(family, socket.IPPROTO_TCP, 1 << (_INET_DIAG_INFO - 1), _ALL_STATES)
        for kind, body in self._ask(request + sockid, _NLM_F_REQUEST):
            if kind == _NLMSG_ERROR and len(body) >= _ERRNO.size:
                error = -_ERRNO.unpack_from(body)[0]
                if error in (errno.ENOENT, errno.ESTALE):
                    return None
                raise OSError(error, os.strerror(error))
            if kind == _SOCK_DIAG_BY_FAMILY and len(body) >= _MSG_SIZE:
                acked = _bytes_acked(body)
                if acked is not None:
                    queued: int = _QUEUES.unpack_from(body, _QUEUES_AT)[1]
                    return acked + queued
            break
        raise OSError(errno.EPROTO, "unexpected sock_diag reply")

    def _ask(self, payload: bytes, flags: int) -> list[tuple[int, bytes]]:
        """Send one request; its replies as (message type, body), up to the dump's end.
        Raises OSError if the socket fails or the kernel does not answer within its timeout."""
        self._seq = seq = (self._seq + 1) & 0xFFFFFFFF
        self._sock.send(
            _HEADER.pack(_HEADER.size + len(payload), _SOCK_DIAG_BY_FAMILY, flags, seq, 0) + payload
        )
        replies: list[tuple[int, bytes]] = []
        while True:
            data = self._sock.recv(65536)
            at = 0
            while at + _HEADER.size <= len(data):
                length, kind, _flags, got_seq, _pid = _HEADER.unpack_from(data, at)
                if length < _HEADER.size:
                    return replies
                if got_seq == seq:
                    if kind == _NLMSG_DONE:
                        return replies
                    replies.append((kind, data[at + _HEADER.size : at + length]))
                    if kind == _NLMSG_ERROR or not flags & _NLM_F_DUMP:
                        return replies
                at += (length + 3) & ~3
            if not data:
                return replies


def _connection(probe: ConnectionProbe, body: bytes) -> SentBytes:
    """The connection an ``inet_diag_msg`` describes."""
    sockid = body[_SOCKID_AT : _SOCKID_AT + _SOCKID_SIZE]
    inode: int = _INODE.unpack_from(body, _INODE_AT)[0]
    return SentBytes(probe, body[0], sockid, inode)


def _guesses(family: int, listener: str, peer: str, seen: deque[bytes]) -> Iterator[bytes]:
    """This end's address as packed guesses, each made only if the one before missed: the
    listener's own (unless a wildcard), the one this host sends from to ``peer``, then
    those dumps found before."""
    own = _packed(family, listener)
    if own is not None:
        yield own
    own = _packed(family, _source_for(family, peer))
    if own is not None:
        yield own
    yield from list(seen)


def _packed(family: int, host: str | None) -> bytes | None:
    """``host`` packed; None for a wildcard or what is not an address of ``family``."""
    if not host or host in _WILDCARDS:
        return None
    try:
        return socket.inet_pton(family, host)
    except OSError:
        return None


def _source_for(family: int, host: str) -> str | None:
    """The address this host sends from to ``host`` (a UDP socket's connect sends nothing)."""
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((host, 9))
            own: str = probe.getsockname()[0]
    except OSError:
        return None
    return own


def _bytecode(family: int, address: bytes, port: int, local_port: int) -> bytes:
    """A filter that keeps sockets whose peer is ``address``:``port`` and whose local port
    is ``local_port`` (inet_diag's bytecode: each condition jumps past the end when false)."""
    peer = _HOSTCOND.pack(family, len(address) * 8, port) + address
    local = _HOSTCOND.pack(family, 0, local_port) + bytes(len(address))
    first = _OP.size + len(peer)
    second = _OP.size + len(local)
    total = first + second
    return (
        _OP.pack(_INET_DIAG_BC_D_COND, first, total + 4)
        + peer
        + _OP.pack(_INET_DIAG_BC_S_COND, second, second + 4)
        + local
    )


def _bytes_acked(body: bytes) -> int | None:
    """``tcpi_bytes_acked`` from the ``INET_DIAG_INFO`` attribute after the message."""
    at = _MSG_SIZE
    while at + _ATTR.size <= len(body):
        length, kind = _ATTR.unpack_from(body, at)
        if length < _ATTR.size:
            return None
        if kind == _INET_DIAG_INFO:
            if length < _ATTR.size + _BYTES_ACKED_AT + _U64.size:
                return None  # a kernel older than 4.1
            acked: int = _U64.unpack_from(body, at + _ATTR.size + _BYTES_ACKED_AT)[0]
            return acked
        at += (length + 3) & ~3
    return None
