"""Flushing the database's written pages to disk from another process.

A checkpoint that lets the WAL start over holds every write back while SQLite syncs the WAL
and then the database file, and that second sync waits for every page the checkpoint's
unheld pass copied before it. Syncing the files first, while writes go on, leaves the held
part little to wait for. It must happen in another process: POSIX locks belong to a process,
and closing any descriptor of the database file in the server's own process drops the locks
SQLite holds on it, after which another process closing its connection deletes the WAL the
server still commits to (see ``Database.checkpoint``). A child's descriptors hold no lock
and take none away.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

__all__ = ("FLUSH_TIMEOUT", "flush_elsewhere")

#: A flush is an optimisation: one that takes longer than this is left to the checkpoint.
FLUSH_TIMEOUT = 10.0

_SYNC = shutil.which("sync")


def flush_elsewhere(paths: Sequence[Path]) -> bool:
    """fdatasync ``paths`` from a child process (coreutils' ``sync --data``); whether it
    did. Blocks: call it from a worker thread."""
    if _SYNC is None:
        return False
    try:
        done = subprocess.run(
            [_SYNC, "--data", "--", *map(str, paths)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=FLUSH_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0
