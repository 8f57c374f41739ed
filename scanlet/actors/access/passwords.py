"""Passwords: argon2id hashes, the length rule, and checks that take as long for an unknown
account as for a wrong password.

argon2id (RFC 9106) is the memory-hard hash OWASP recommends for passwords; argon2-cffi's
defaults are RFC 9106's second recommended option (3 passes over 64 MiB, 4 lanes). The hash
is stored in its PHC string form, which carries its salt and costs, so they can be raised
later: ``needs_rehash`` says when a stored hash is below the current costs.
"""

from __future__ import annotations

import argon2

__all__ = ("MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH", "Passwords", "password_problem")

MIN_PASSWORD_LENGTH = 10
#: Long enough for any passphrase or manager-made password; a bound keeps a hostile client
#: from making the server hash megabytes.
MAX_PASSWORD_LENGTH = 1024


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be used, or None when it can."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"must be at most {MAX_PASSWORD_LENGTH} characters"
    return None


def _bytes(password: str) -> bytes:
    # Any text is a password (NULs and lone surrogates included: JSON can carry them, and
    # only their hash is stored), so encode what UTF-8 alone would refuse.
    return password.encode("utf-8", "surrogatepass")


class Passwords:
    """Hashes and checks passwords with argon2id at the given costs."""

    def __init__(self, hasher: argon2.PasswordHasher | None = None) -> None:
        self._hasher = hasher or argon2.PasswordHasher(type=argon2.Type.ID)
        # Checked against when an account is unknown or has no password, so that answer
        # costs one verification like any wrong password (no timing tells them apart).
        # Made on first use: most processes (the CLI, a server nobody signs in to) never
        # need it, and it costs a whole hash.
        self._dummy: str | None = None

    @classmethod
    def cheap(cls) -> Passwords:
        """Low costs, for tests only: still argon2id, just fast."""
        return cls(
            argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=argon2.Type.ID)
        )

    def hash(self, password: str) -> str:
        """The PHC string of a new argon2id hash of ``password``."""
        return self._hasher.hash(_bytes(password))

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored`` (None: check a dummy and answer False).

        argon2-cffi compares the computed tag in constant time."""
        if stored is None and self._dummy is None:
            self._dummy = self._hasher.hash("not a password of anybody's")
        try:
            checked = self._hasher.verify(stored or self._dummy or "", _bytes(password))
            return checked and stored is not None
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False
