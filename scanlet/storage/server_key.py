"""The server key: 32 random bytes in a file of its own, never in the database.

Everything in the database is also in every backup of it. The keys that protect visitor
hashes and dashboard sessions are derived from this one instead, so a copy of the database
or a backup, alone, neither gives back a client address nor lets anyone forge a session.
The file sits beside the database (``<db>.key``) unless ``SCANLET_SECRET_FILE`` says
otherwise, is created 0600 on the server's first start, and must be backed up separately.
Losing it costs only the day's unique-visitor continuity (a visitor seen before and after
counts twice that day) and the dashboard forms open at the time (reload them): a new key is
made and everything else goes on.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from scanlet.storage.errors import StorageError
from scanlet.storage.private_files import PRIVATE_MODE

__all__ = ("KEY_BYTES", "ServerKey", "ServerKeyError", "ensure_server_key", "read_server_key")

KEY_BYTES = 32


class ServerKeyError(StorageError):
    """Raised when the key file cannot be read or written, or does not hold a key."""


class ServerKey:
    """The server's secret; hands out keys derived for one purpose each, never itself."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) != KEY_BYTES:
            raise ValueError(f"a server key is {KEY_BYTES} bytes, not {len(secret)}")
        self._secret = secret

    def __repr__(self) -> str:
        return "ServerKey(...)"

    def derive(self, purpose: str, context: bytes = b"") -> bytes:
        """HMAC-SHA256 of ``purpose`` NUL ``context`` under the server key: 32 bytes.

        Different purposes give unrelated keys, so what is made with one (a CSRF token)
        never passes for another (a visitor hash key). ``purpose`` must not contain NUL.
        """
        if "\0" in purpose:
            raise ValueError("a purpose must not contain NUL")
        message = purpose.encode() + b"\0" + context
        return hmac.new(self._secret, message, hashlib.sha256).digest()


def read_server_key(path: Path) -> ServerKey | None:
    """The key in ``path``, or None when there is no such file (nothing is created)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ServerKeyError(f"cannot read the server key file {path}: {exc}") from exc
    if len(data) != KEY_BYTES:
        raise ServerKeyError(
            f"the server key file {path} holds {len(data)} bytes, not {KEY_BYTES};"
            " restore it from its backup, or remove it to start with a new key"
        )
    return ServerKey(data)


def ensure_server_key(path: Path) -> tuple[ServerKey, bool]:
    """The key in ``path``, created if there is none; and whether this call created it.

    The key is written whole to a private temporary file (O_EXCL, 0600), fsynced and then
    hard-linked into place, which fails if the name exists: two processes starting together
    agree on one key, and nobody ever reads a half-written file.
    """
    key = read_server_key(path)
    if key is not None:
        return key, False
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    created = False
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_MODE)
        with os.fdopen(fd, "wb") as file:
            file.write(secrets.token_bytes(KEY_BYTES))
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
            created = True
        except FileExistsError:
            pass  # another process made it first: use theirs
        _fsync_directory(path.parent)
    except OSError as exc:
        raise ServerKeyError(f"cannot create the server key file {path}: {exc}") from exc
    finally:
        temporary.unlink(missing_ok=True)
    key = read_server_key(path)
    if key is None:
        raise ServerKeyError(f"the server key file {path} vanished while it was created")
    return key, created


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
