"""The sign-in lockout: 10 failed password sign-ins for one account, or from one address,
within 15 minutes, and further attempts are refused until the window passes.

The account is the email as typed (normalised), whether or not such an account exists, so
the answer never tells which emails have accounts. Both are stored only as HMACs under a key
derived from the server key file: the database holds no client address (as
``SCANLET_ANONYMIZE_IP`` promises) and nothing typed into the form. Failures are counted in
the database, so every instance on a shared PostgreSQL database counts the same ones.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from scanlet.storage.ports import SignInFailures
from scanlet.storage.timefmt import format_time

__all__ = ("LOCKOUT_FAILURES", "LOCKOUT_WINDOW", "SignInLockout")

LOCKOUT_FAILURES = 10
LOCKOUT_WINDOW = timedelta(minutes=15)
#: The server key's purpose label for the lockout's digests.
LOCKOUT_PURPOSE = "sign-in-lockout"


class SignInLockout:
    """Counts failed sign-ins by account and by address in ``failures``."""

    def __init__(
        self,
        failures: SignInFailures,
        key: bytes,
        *,
        limit: int = LOCKOUT_FAILURES,
        window: timedelta = LOCKOUT_WINDOW,
    ) -> None:
        self._failures = failures
        self._key = key
        self.limit = limit
        self.window = window

    def _digest(self, kind: bytes, value: str) -> bytes:
        return hmac.new(self._key, kind + b"\0" + value.encode(), hashlib.sha256).digest()

    def _digests(self, email: str, address: str) -> tuple[bytes, bytes]:
        # The email as the account lookup sees it (trimmed, lower case, bounded).
        account = email.strip().lower()[:254]
        return self._digest(b"account", account), self._digest(b"address", address)

    async def locked(self, email: str, address: str, *, now: datetime) -> bool:
        """Whether sign-ins for ``email`` or from ``address`` are refused right now."""
        account, place = self._digests(email, address)
        by_account, by_address = await self._failures.count(
            account, place, format_time(now - self.window)
        )
        return by_account >= self.limit or by_address >= self.limit

    async def failed(self, email: str, address: str, *, now: datetime) -> None:
        """Note a failed sign-in (and forget those older than the window)."""
        account, place = self._digests(email, address)
        stamp = format_time(now)
        await self._failures.record(
            account, place, stamp, forget_before=format_time(now - self.window)
        )

    @property
    def retry_after(self) -> int:
        """Seconds a refused client is told to wait: the whole window, at most."""
        return int(self.window.total_seconds())
