"""What the codes context accepts as a code's logo: the limits every entrance shares.

The bytes are checked (PNG, JPEG) or sanitised (SVG) at the edge, by the QR images adapter
(``scanlet.adapters.qr_images.load_logo``), which takes its limits from here; the codes actor
checks them again before it stores a logo, so no entrance can store what another refuses.
"""

from __future__ import annotations

import re
from typing import Literal

from scanlet.actors.codes.errors import InvalidField
from scanlet.storage.records import StoredLogo

__all__ = ("LOGO_TYPES", "MAX_LOGO_BYTES", "LogoType", "check_stored_logo")

LogoType = Literal["image/png", "image/jpeg", "image/svg+xml"]
LOGO_TYPES: tuple[LogoType, ...] = ("image/png", "image/jpeg", "image/svg+xml")
#: The largest logo accepted, in any format (the API refuses more with 413 as it streams in).
MAX_LOGO_BYTES = 256 * 1024
_DIGEST = re.compile(r"[0-9a-f]{32}")


def check_stored_logo(logo: StoredLogo) -> StoredLogo:
    """``logo`` if it is within the limits; InvalidField naming ``logo`` if not."""
    if logo.media_type not in LOGO_TYPES:
        raise InvalidField("logo", "must be image/png, image/jpeg or image/svg+xml")
    if not 0 < len(logo.data) <= MAX_LOGO_BYTES:
        raise InvalidField("logo", f"must be 1 byte to {MAX_LOGO_BYTES // 1024} KiB")
    if not _DIGEST.fullmatch(logo.digest):
        raise InvalidField("logo", "digest must be 32 lower-case hex digits")
    return logo
