"""The serve lock: a file beside a SQLite database that a server holds locked while it serves
that database, so a second server refuses to start and an import knows to make room.

Two servers on one database would each keep their own slug index and scan counters (and
granian shares a port with SO_REUSEPORT, so the second would start without complaint):
max_scans and the redirect index would silently diverge. The lock is a ``flock`` on
``DB.serve.lock``, taken by ``claim_serve_lock`` and released with its process, however
that ends (no stale file to clean up after a crash).
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import IO

from scanlet.storage.private_files import PRIVATE_MODE, tighten_modes

__all__ = ("CLAIM_GRACE", "claim_serve_lock", "is_served", "serve_lock_path")

#: How long a server tries for the lock even when it is not waiting for a predecessor: an
#: import asking ``is_served`` holds the lock for an instant, and a server starting at that
#: instant must not take it for another server's.
CLAIM_GRACE = 0.2
_RETRY_PAUSE = 0.02


def serve_lock_path(db: Path) -> Path:
    """The file whose lock says a server is using ``db``."""
    return db.parent / f"{db.name}.serve.lock"


def claim_serve_lock(db: Path, wait: float = 0.0) -> IO[bytes] | None:
    """Hold the serve lock of ``db`` for as long as the returned file stays open, trying
    for ``wait`` seconds (``CLAIM_GRACE`` at least); None if another server holds it."""
    db.parent.mkdir(parents=True, exist_ok=True)
    path = serve_lock_path(db)
    tighten_modes([path])
    handle = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, PRIVATE_MODE), "ab")
    deadline = time.monotonic() + max(wait, CLAIM_GRACE)
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.close()
                return None
            time.sleep(_RETRY_PAUSE)
        else:
            return handle


def is_served(db: Path) -> bool:
    """Whether a server holds the serve lock of ``db`` right now.

    A lock cannot be inspected without asking for it, so this takes it shared and gives it
    back at once (a few microseconds, covered by ``CLAIM_GRACE``). No lock file: no server
    ever served ``db``. A lock file that cannot be opened says nothing either way, so it
    counts as served: an import then paces itself, which is only slower.
    """
    try:
        fd = os.open(serve_lock_path(db), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
