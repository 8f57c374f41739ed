"""Zero-downtime restarts: serve on a listening socket handed in by systemd (or a parent).

With socket activation the listening socket belongs to the service manager, not to the
process: it stays open, and keeps queueing connections in its backlog, while one server
process stops and the next starts. Nothing is refused during an upgrade; requests that
arrive in between wait in the kernel until the new process accepts them.

The new process may even be started before the old one is told to stop: it finds the
database lock (``scanlet.serving.server``) held and waits for it instead of exiting, so the old one
drains and exits on SIGTERM while the new one is already loaded and takes over at once.
This follows the ``sd_listen_fds`` protocol: ``LISTEN_FDS`` sockets from fd 3, meant for the
process whose pid is ``LISTEN_PID``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

from scanlet.config import ConfigError

__all__ = ("LISTEN_FDS_START", "inherited_socket")

LISTEN_FDS_START = 3


def inherited_socket(environ: Mapping[str, str] | None = None) -> socket.socket | None:
    """The listening TCP socket passed in ``LISTEN_FDS``, or None when there is none.

    The variables are removed from ``os.environ`` afterwards, so that a child process never
    believes the socket was meant for it.
    """
    env = os.environ if environ is None else environ
    raw_count = env.get("LISTEN_FDS")
    if not raw_count:
        return None
    raw_pid = env.get("LISTEN_PID")
    if raw_pid and raw_pid.strip() != str(os.getpid()):
        return None
    if raw_count.strip() != "1":
        raise ConfigError("LISTEN_FDS", f"expected exactly one listening socket, got {raw_count}")
    try:
        sock = socket.socket(fileno=LISTEN_FDS_START)
    except OSError as exc:
        raise ConfigError("LISTEN_FDS", f"fd {LISTEN_FDS_START} is not a socket: {exc}") from None
    if sock.type != socket.SOCK_STREAM or sock.family not in (socket.AF_INET, socket.AF_INET6):
        sock.detach()
        raise ConfigError("LISTEN_FDS", f"fd {LISTEN_FDS_START} is not a TCP socket")
    if environ is None:
        for name in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
            os.environ.pop(name, None)
    return sock
