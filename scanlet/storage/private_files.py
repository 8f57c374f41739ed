"""Files only the server's own user may read: created 0600, wider older ones tightened.

The database file (and with it its ``-wal`` and ``-shm``), the server key, the serve lock
and backups hold webhook secrets, key hashes and the event log: nobody but the user running
Scanlet has any business reading them. The CLI sets a 0077 umask as well, but a library
caller or a test may not, so these files are created with an explicit mode whatever the
umask says.

SQLite gives a database's ``-wal``, ``-shm`` and rollback journal the permission bits of the
database file itself (os_unix.c, ``findCreateFileMode``), so creating the database file 0600
before SQLite opens it is what makes all three private.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

import structlog

__all__ = ("PRIVATE_MODE", "create_private_file", "database_files", "tighten_modes")

log = structlog.get_logger("scanlet.storage")

#: Read and write for the owner, nothing for anybody else.
PRIVATE_MODE = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def create_private_file(path: Path) -> bool:
    """Create ``path`` empty with mode 0600 unless it exists; True if this call created it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def database_files(db: Path) -> tuple[Path, Path, Path]:
    """The database file and the ``-wal`` and ``-shm`` files SQLite keeps beside it."""
    return db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")


def tighten_modes(paths: Iterable[Path]) -> None:
    """Take group and other permissions off each existing file in ``paths``, saying so.

    For files made before Scanlet created them 0600 (with the usual 0022 umask they are
    world-readable). Tightened rather than only reported, since until someone acts on a
    warning every local user can read the webhook secrets; a file we may not change (owned
    by another user) is reported instead. Missing files are skipped.
    """
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if not mode & _OTHERS:
            continue
        try:
            os.chmod(path, mode & ~_OTHERS)
        except OSError as exc:
            log.warning(
                "file readable by other users; run chmod 600 on it",
                path=str(path),
                mode=f"{mode:04o}",
                error=str(exc),
            )
        else:
            log.warning(
                "file was readable by other users; tightened",
                path=str(path),
                was=f"{mode:04o}",
                now=f"{mode & ~_OTHERS:04o}",
            )
