"""Facts about a payload's QR code, and a shorter code for the same link.

A QR code stores text in the densest mode all of it fits: byte mode takes 8 bits a
character, alphanumeric mode (digits, A-Z, space and $%*+-./:) 5.5. A short link written in
capitals (scheme and host are case-insensitive by RFC 3986; the path ``/Q/SLUG`` needs a
route that resolves slugs without regard to case) fits alphanumeric mode, and often a
smaller version: fewer, larger modules at the same printed size.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

import msgspec
import segno

from scanlet.adapters.qr_images._options import Ecc

__all__ = ("CompactPayload", "alphanumeric_payload", "compact_payload", "qr_facts")

_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
_UPPER_CASE_SAFE_SLUG = re.compile(r"[A-Za-z0-9-]{1,64}")


#: How many bytes a byte-mode QR code of each version (1-40) holds at error correction M
#: (ISO/IEC 18004 table 7; a test checks every length against segno).
_BYTE_CAPACITY_M = (
    14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624,
    666, 711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809,
    1911, 1989, 2099, 2213, 2331,
)  # fmt: skip


#: How many characters an alphanumeric-mode QR code of each version holds at M (ISO/IEC
#: 18004 table 7; a test checks every length against segno).
_ALPHANUMERIC_CAPACITY_M = (
    20, 38, 61, 90, 122, 154, 178, 221, 262, 311, 366, 419, 483, 528, 600, 656, 734, 816,
    909, 970, 1035, 1134, 1248, 1326, 1451, 1542, 1637, 1732, 1839, 1994, 2113, 2238, 2369,
    2506, 2632, 2780, 2894, 3054, 3220, 3391,
)  # fmt: skip


def _by_table(length: int, capacities: tuple[int, ...]) -> tuple[int, int] | None:
    for version, capacity in enumerate(capacities, start=1):
        if length <= capacity:
            return version, 17 + 4 * version
    return None


def qr_facts(payload: str, ecc: Ecc = "M") -> tuple[int, int]:
    """(version, modules) of the QR code drawn for ``payload`` at ``ecc``. A code resource
    asks this of every code it lists, on the event loop: the usual cases at M (an ASCII link
    with a lower-case letter, so byte mode; a compact link, all alphanumeric) are table
    lookups; anything else asks segno."""
    if ecc == "M" and payload.isascii():
        alphanumeric = set(payload) <= _ALPHANUMERIC
        # An all-digit payload is numeric mode, smaller still: segno knows it.
        if not alphanumeric or not payload.isdigit():
            table = _ALPHANUMERIC_CAPACITY_M if alphanumeric else _BYTE_CAPACITY_M
            found = _by_table(len(payload), table)
            if found is not None:
                return found
    return _segno_facts(payload, ecc)


@functools.lru_cache(maxsize=4096)
def _segno_facts(payload: str, ecc: Ecc) -> tuple[int, int]:
    """(version, modules) of the QR code drawn for ``payload`` at ``ecc``: modules is the
    symbol's side without the quiet zone (17 + 4 x version), e.g. a 33-character URL ->
    (3, 29). Cheap enough for every code of a listing: the mask, which does not change the
    version, is fixed instead of chosen (the choice is 85% of segno's time), and answers
    are remembered."""
    qr = segno.make_qr(payload, error=ecc, mask=0)
    return int(qr.version), int(qr.symbol_size(border=0)[0])


def alphanumeric_payload(base_url: str, slug: str) -> str | None:
    """``base_url``'s short link to ``slug`` in QR alphanumeric characters, or None.

    "https://qr.example.com", "menu-2" -> "HTTPS://QR.EXAMPLE.COM/Q/MENU-2". None when the
    base URL has a path, query, user or characters outside the set (an IPv6 literal, a
    non-ASCII host), or the slug has "_". The link only works once ``/Q/{slug}`` resolves
    slugs whatever their case, and only for slugs no other slug equals ignoring case.
    """
    if not _UPPER_CASE_SAFE_SLUG.fullmatch(slug):
        return None
    parts = urlsplit(base_url)
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    payload = f"{parts.scheme}://{parts.netloc}/Q/{slug}".upper()
    if not set(payload) <= _ALPHANUMERIC:
        return None
    return payload


class CompactPayload(msgspec.Struct, frozen=True):
    """The alphanumeric payload with its QR version and modules, beside the usual ones."""

    payload: str
    version: int
    modules: int
    usual_version: int
    usual_modules: int

    @property
    def versions_saved(self) -> int:
        """How many versions smaller the compact code is (0 when it is not smaller)."""
        return self.usual_version - self.version


def compact_payload(base_url: str, slug: str, ecc: Ecc = "M") -> CompactPayload | None:
    """``alphanumeric_payload`` with the version it saves over ``{base_url}/q/{slug}``."""
    payload = alphanumeric_payload(base_url, slug)
    if payload is None:
        return None
    version, modules = qr_facts(payload, ecc)
    usual_version, usual_modules = qr_facts(f"{base_url.rstrip('/')}/q/{slug}", ecc)
    return CompactPayload(payload, version, modules, usual_version, usual_modules)
