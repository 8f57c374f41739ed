"""The logo store behind ``LogoSource``: logos the codes context keeps in storage.

A QR request asks storage for the code's logo hash (one indexed lookup); the checked
``Logo`` (Pillow-decoded, or the SVG parsed again) is kept by that hash, so a repeated image
costs no decode, and a logo changed on another instance is seen at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import anyio

from scanlet.adapters.qr_images._logo import Logo, load_logo
from scanlet.storage.ports import CodeRepository

__all__ = ("StoredLogos",)


class StoredLogos:
    """A LogoSource reading ``codes``' logos, with the last ``max_entries`` checked ones
    kept by content hash."""

    def __init__(self, codes: CodeRepository, max_entries: int = 64) -> None:
        self._codes = codes
        self._max_entries = max_entries
        self._checked: OrderedDict[str, Logo] = OrderedDict()
        self._lock = threading.Lock()

    async def logo_for(self, slug: str) -> Logo | None:
        """The logo of the code ``slug``, or None when it has none."""
        digest = await self._codes.logo_digest(slug)
        if digest is None:
            return None
        with self._lock:
            known = self._checked.get(digest)
            if known is not None:
                self._checked.move_to_end(digest)
                return known
        stored = await self._codes.logo(slug)
        if stored is None:  # removed between the two reads
            return None
        # Checked again as it is loaded (a database edited by hand gets no unchecked image
        # into a response); off the event loop, as decoding a raster takes milliseconds.
        logo = await anyio.to_thread.run_sync(load_logo, stored.data, stored.media_type)
        with self._lock:
            self._checked[stored.digest] = logo
            while len(self._checked) > self._max_entries:
                self._checked.popitem(last=False)
        return logo
