"""Code passwords: stored as argon2id hashes only, checked off the event loop.

argon2-cffi's defaults are RFC 9106's second recommended option (argon2id, t=3, 64 MiB,
p=4): tens of milliseconds of CPU and 64 MiB a check, so hashing and checking run in worker
threads, at most ``CONCURRENT`` at a time (memory stays bounded whoever asks), and the scan
path rate-limits attempts per address before it gets here.
"""

from __future__ import annotations

import threading

import anyio.to_thread
from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = (
    "CONCURRENT",
    "MAX_PASSWORD_LENGTH",
    "hash_password",
    "is_password_hash",
    "password_matches",
)

MAX_PASSWORD_LENGTH = 256
CONCURRENT = 2
_hasher = PasswordHasher()
# A semaphore of threads, not an anyio limiter: it is shared by every event loop (tests run
# many), and a worker thread waiting here costs no memory of argon2's.
_running = threading.BoundedSemaphore(CONCURRENT)
#: The costs a hash brought in from elsewhere (an archive) may ask of every check: above
#: them, each scan's check could take seconds or gigabytes.
_MAX_MEMORY_KIB = 256 * 1024
_MAX_TIME_COST = 10


def _hash(password: str) -> str:
    with _running:
        return _hasher.hash(password)


async def hash_password(password: str) -> str:
    """The argon2id hash (PHC string, salt included) of ``password``."""
    return await anyio.to_thread.run_sync(_hash, password)


def is_password_hash(text: str) -> bool:
    """Whether ``text`` is an argon2id hash (PHC string) this server will check, at costs
    it can afford: what an archive's protected code may bring."""
    try:
        found = extract_parameters(text)
    except (InvalidHashError, ValueError):
        return False
    return (
        found.type is Type.ID
        and found.memory_cost <= _MAX_MEMORY_KIB
        and found.time_cost <= _MAX_TIME_COST
    )


async def password_matches(stored: str, attempt: str) -> bool:
    """Whether ``attempt`` is the password hashed as ``stored`` (never raises for a wrong
    password or a damaged hash: both are simply no match)."""

    def check() -> bool:
        try:
            with _running:
                return _hasher.verify(stored, attempt)
        except (VerificationError, InvalidHashError):
            return False

    if len(attempt) > MAX_PASSWORD_LENGTH:
        return False
    return await anyio.to_thread.run_sync(check)
