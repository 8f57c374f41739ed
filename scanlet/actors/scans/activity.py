"""When the scans context last recorded a live scan (a redirect's, or an orphan's): what
bulk work sharing its writer (an import through the server's door) asks to know whether
visitors are being served, and so whether to make room for them."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ("LiveScans",)


class LiveScans:
    """The time of the last commit that held a live scan, by ``clock`` (seconds)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last = float("-inf")

    def recorded(self) -> None:
        """A commit held live scans."""
        self._last = self._clock()

    def within(self, seconds: float) -> bool:
        """Whether a live scan was recorded in the last ``seconds``."""
        return self._clock() - self._last < seconds
