"""Storage errors: what the layers above may catch from any storage adapter."""

from __future__ import annotations

from pathlib import Path

__all__ = ("DatabaseMissing", "StorageError", "StorageUnavailable")


class StorageError(Exception):
    """Raised when the storage layer cannot do what it was asked."""


class StorageUnavailable(StorageError):
    """Raised when the database cannot be reached or written (missing, locked, full, read-only)."""


class DatabaseMissing(StorageError):
    """Raised when a database that must already exist (to be read, not created) does not."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        super().__init__(f"no database at {path}")
