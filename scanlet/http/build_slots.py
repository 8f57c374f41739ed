"""Slots for heavy work that a client can start (e.g. QR archives): a few at a time per
instance, 429 with ``Retry-After`` beyond, so no client can take every core."""

from __future__ import annotations

from collections.abc import Callable

from scanlet.http.problems import Problem

__all__ = ("BuildSlots",)


class BuildSlots:
    """How many builds of one kind run on this instance, and how many may."""

    def __init__(self, what: str, limit: int = 2) -> None:
        self.what = what
        self.limit = limit
        self.running = 0

    def take(self) -> Callable[[], None]:
        """A build slot, and the call that gives it back; 429 when all are taken."""
        if self.running >= self.limit:
            raise Problem(
                429,
                f"{self.limit} {self.what} are being built on this server; try again shortly.",
                headers={"Retry-After": "30"},
            )
        self.running += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.running -= 1

        return release
