"""A streamed response under granian, with flow control: the body goes through a pipe that
granian reads as a file.

Granian's RSGI ``response_stream`` queues whatever the app sends however slowly the client
reads: its ``send_bytes`` returns at once (an unbounded channel, granian 2.8.9). So a client
that stopped reading an event stream, or read a large export slowly, made the server keep
every byte sent since. Measured here: 20 event streams that never read grew the process by
3.4 GB in 30 s of redirects; four clients reading a 29 MB CSV export at 1 KB/s held all of
it each. uvicorn stayed flat in both.

Granian's ``response_file`` reads its file only as the connection takes the data (128 KiB
at a time). Given a named pipe, it carries the body with the kernel's flow control: a write
waits while the pipe is full, and the pipe empties only as fast as the client reads. A slow
client then holds the pipe's 64 KiB, granian's read buffer and the socket's, whatever the
response's length. Granian does not say when the client of a piped body goes away; the
next write after granian has tried to send it what it read fails, which an idle event
stream's heartbeat brings about within two of them (``AsgiOverRsgi`` passes it on to the
app as the disconnect).
"""

from __future__ import annotations

import atexit
import errno
import itertools
import os
import shutil
import tempfile
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from granian._granian import RSGIHTTPProtocol

__all__ = ("OPEN_SECONDS", "PipedBody")

#: How long granian may take to open the pipe after it was handed the response (it opens
#: it on one of its own threads at once; it never does when the client has already gone).
OPEN_SECONDS = 5.0

_names = itertools.count()
_folder: str | None = None


def _pipes_folder() -> str:
    """A folder of this process's own (mode 0700) for the pipes, removed at exit. Each pipe
    is unlinked as soon as both ends are open, so it normally stays empty."""
    global _folder
    if _folder is None:
        _folder = tempfile.mkdtemp(prefix="scanlet-pipes-")
        atexit.register(shutil.rmtree, _folder, ignore_errors=True)
    return _folder


class PipedBody:
    """The writing end of one response's pipe; ``open`` starts the response."""

    __slots__ = ("_fd",)

    def __init__(self, fd: int) -> None:
        self._fd = fd

    @classmethod
    async def open(
        cls, protocol: RSGIHTTPProtocol, status: int, headers: list[tuple[str, str]]
    ) -> PipedBody | None:
        """Answer with ``status`` and ``headers`` and a body to be written here; None when
        granian never opened the pipe (the client had gone), so there is nothing to write."""
        path = os.path.join(_pipes_folder(), str(next(_names)))
        os.mkfifo(path, 0o600)
        try:
            protocol.response_file(status, headers, path)
            fd = await _open_writer(path)
        finally:
            os.unlink(path)
        return None if fd is None else cls(fd)

    async def write(self, data: bytes) -> bool:
        """Write ``data``, waiting while the client is behind; False if the client is gone."""
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._fd, view)
            except BlockingIOError:
                await anyio.wait_writable(self._fd)
                continue
            except BrokenPipeError:
                return False
            view = view[written:]
        return True

    def close(self) -> None:
        """End the body (granian reads the end of its file); once only."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


async def _open_writer(path: str) -> int | None:
    """The pipe opened for writing once granian has opened it for reading (until then a
    non-blocking open says ENXIO), or None after ``OPEN_SECONDS``."""
    pause = 0.0005
    with anyio.move_on_after(OPEN_SECONDS):
        while True:
            try:
                return os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            except OSError as exc:
                if exc.errno != errno.ENXIO:
                    raise
            await anyio.sleep(pause)
            pause = min(pause * 2, 0.05)
    return None
