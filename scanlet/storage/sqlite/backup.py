"""Online backups: a consistent copy of a live database through SQLite's backup API.

The copy is taken in one step, inside one read transaction on the source: in WAL mode that
is a snapshot which a running server's writer never waits for (readers and the writer do not
block each other), so the server keeps recording scans while the copy is made, and the copy
holds exactly the transactions committed when it started. It is written beside the
destination under a temporary name, checked with ``PRAGMA integrity_check``, switched to a
rollback journal (one self-contained file, no ``-wal`` to forget), fsynced, and only then
renamed into place: a failed or interrupted backup never leaves a file that looks complete.
The copy is created 0600 whatever the umask: it holds everything the database does.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scanlet.storage.errors import StorageError
from scanlet.storage.private_files import create_private_file
from scanlet.storage.sqlite.database import require_database

__all__ = ("BackupFailed", "BackupResult", "backup_database")


class BackupFailed(StorageError):
    """Raised when a backup cannot be made or its copy fails the integrity check."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    """Where the copy went, how big it is and the last event it holds."""

    path: Path
    bytes: int
    last_seq: int


def _destination(dest: Path, now: datetime) -> Path:
    if dest.is_dir():
        return dest / f"scanlet-{now.strftime('%Y%m%dT%H%M%SZ')}.db"
    if dest.exists():
        raise BackupFailed(f"{dest} exists; choose a new file or a directory")
    if not dest.parent.is_dir():
        raise BackupFailed(f"no such directory: {dest.parent}")
    return dest


#: Seconds between looks at the copy's size while it is written (for a progress bar).
WATCH_INTERVAL = 0.1


@contextmanager
def _watching(path: Path, total: int, copied: Callable[[int, int], None] | None) -> Iterator[None]:
    """Tell ``copied`` how many bytes ``path`` holds of ``total``, every ``WATCH_INTERVAL``
    while the block runs (from a thread of its own: the one-step copy releases the GIL but
    reports nothing until it ends), and ``total`` once it ends without error."""
    if copied is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(WATCH_INTERVAL):
            with suppress(OSError):
                copied(min(path.stat().st_size, total), total)

    watcher = threading.Thread(target=watch, name="backup-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
    copied(total, total)


def backup_database(
    source: Path,
    dest: Path,
    *,
    now: datetime | None = None,
    copied: Callable[[int, int], None] | None = None,
) -> BackupResult:
    """Copy the live database ``source`` to ``dest`` (a new file, or a directory to put a
    time-stamped file in) and verify the copy; ``copied`` hears the bytes written so far
    and the database's size as the copy grows."""
    require_database(source)
    target = _destination(dest, now or datetime.now(UTC))
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        # 0600 before SQLite writes a byte (its journals copy this mode); the rename keeps it.
        create_private_file(partial)
        # Opened read-only: a backup must never be able to change what it copies.
        with (
            closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
            closing(sqlite3.connect(partial, isolation_level=None)) as copy,
        ):
            src.execute("PRAGMA busy_timeout = 5000")
            pages, page_size = (
                src.execute("PRAGMA page_count").fetchone()[0],
                src.execute("PRAGMA page_size").fetchone()[0],
            )
            # pages=-1: the whole database in one step, so one snapshot (a stepwise copy
            # restarts whenever another connection writes, which a busy server always does).
            with _watching(partial, int(pages) * int(page_size), copied):
                src.backup(copy, pages=-1)
            verdict = copy.execute("PRAGMA integrity_check").fetchall()
            if verdict != [("ok",)]:
                problems = "; ".join(str(row[0]) for row in verdict[:3])
                raise BackupFailed(f"the copy failed its integrity check: {problems}")
            copy.execute("PRAGMA journal_mode = DELETE")
            row = copy.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise BackupFailed(f"backup of {source} failed: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupResult(target, target.stat().st_size, int(row[0]))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
