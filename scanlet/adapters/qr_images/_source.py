"""Where the QR route gets a code's logo: a port, and the default that has none.

The app hands the QR route ``StoredLogos`` (the codes' stored logos); ``NO_LOGOS`` is for
tests and tools that have no storage: there ``logo=true`` is refused with "this code has no
logo".
"""

from __future__ import annotations

from typing import Protocol

from scanlet.adapters.qr_images._logo import Logo

__all__ = ("NO_LOGOS", "LogoSource", "NoLogos")


class LogoSource(Protocol):
    """Finds the logo to draw in a code's QR image."""

    async def logo_for(self, slug: str) -> Logo | None:
        """The logo of the code ``slug`` (already checked by ``load_logo``), or None."""
        ...


class NoLogos:
    """A LogoSource with no logos at all."""

    async def logo_for(self, slug: str) -> Logo | None:
        """Always None."""
        return None


NO_LOGOS: LogoSource = NoLogos()
