"""Storage errors: what the layers above may catch from any storage adapter."""

from __future__ import annotations

__all__ = ("StorageError", "StorageUnavailable")


class StorageError(Exception):
    """Raised when the storage layer cannot do what it was asked."""


class StorageUnavailable(StorageError):
    """Raised when the database cannot be reached or written (missing, locked, full, read-only)."""
