"""QR images of codes: the options a request may set, and a caching renderer built on segno."""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Literal

import msgspec
import segno

from scanlet.actors.codes.errors import InvalidField

__all__ = ("TRANSPARENT", "QrCacheStatistics", "QrOptions", "QrRenderer", "RenderedQr", "etag_for")

Format = Literal["svg", "png"]
Ecc = Literal["L", "M", "Q", "H"]

_FORMATS: tuple[Format, ...] = ("svg", "png")
_ECCS: tuple[Ecc, ...] = ("L", "M", "Q", "H")
_MEDIA_TYPES: dict[Format, str] = {"svg": "image/svg+xml", "png": "image/png"}
_SCALE_RANGE = (1, 50)
_BORDER_RANGE = (0, 20)
# ASCII digits only: int() would also take " 7", "+7", "1_0" and other scripts' digits.
_INTEGER = re.compile(r"[0-9]{1,6}")
_COLOUR = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
TRANSPARENT = "transparent"


class QrOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How to draw a QR image; colours are kept canonical ("#rrggbb" or "transparent")."""

    format: Format = "svg"
    scale: int = 10
    border: int = 4
    ecc: Ecc = "M"
    dark: str = "#000000"
    light: str = "#ffffff"

    def __post_init__(self) -> None:
        # Checked here as well as in parse() so that options built in code are held to the
        # same rules, and so that equal images always have equal (canonical) options: the
        # cache key and the ETag depend on it.
        if self.format not in _FORMATS:
            raise InvalidField("format", "must be 'svg' or 'png'")
        if self.ecc not in _ECCS:
            raise InvalidField("ecc", "must be one of L, M, Q, H")
        _check_range("scale", self.scale, _SCALE_RANGE)
        _check_range("border", self.border, _BORDER_RANGE)
        dark = _canonical_colour("dark", self.dark, allow_transparent=False)
        light = _canonical_colour("light", self.light, allow_transparent=True)
        if dark == light:
            raise InvalidField("dark", "must differ from light, or the code cannot be read")
        msgspec.structs.force_setattr(self, "dark", dark)
        msgspec.structs.force_setattr(self, "light", light)

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> QrOptions:
        """Build options from query parameters; absent ones take defaults, unknown are ignored.

        `format` and `ecc` are case-insensitive; colours are hex with or without "#" (which
        must be written %23 in a URL), e.g. {"format": "PNG", "dark": "0a0"} -> png, #00aa00.
        """
        defaults = cls()
        fmt = params.get("format", defaults.format).lower()
        if fmt not in _FORMATS:
            raise InvalidField("format", "must be 'svg' or 'png'")
        ecc = params.get("ecc", defaults.ecc).upper()
        if ecc not in _ECCS:
            raise InvalidField("ecc", "must be one of L, M, Q, H")
        return cls(
            format=fmt,
            ecc=ecc,
            scale=_parse_integer("scale", params.get("scale"), defaults.scale, _SCALE_RANGE),
            border=_parse_integer("border", params.get("border"), defaults.border, _BORDER_RANGE),
            dark=params.get("dark", defaults.dark),
            light=params.get("light", defaults.light),
        )


def _parse_integer(field: str, raw: str | None, default: int, bounds: tuple[int, int]) -> int:
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):
        raise InvalidField(field, f"must be a whole number from {bounds[0]} to {bounds[1]}")
    value = int(raw)
    _check_range(field, value, bounds)
    return value


def _check_range(field: str, value: int, bounds: tuple[int, int]) -> None:
    # bool is an int subclass; True as a scale is a bug, not 1.
    if type(value) is not int or not bounds[0] <= value <= bounds[1]:
        raise InvalidField(field, f"must be a whole number from {bounds[0]} to {bounds[1]}")


def _canonical_colour(field: str, raw: str, *, allow_transparent: bool) -> str:
    if allow_transparent and isinstance(raw, str) and raw.lower() == TRANSPARENT:
        return TRANSPARENT
    match = _COLOUR.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        expected = "a hex colour (#RGB or #RRGGBB)"
        if allow_transparent:
            expected += " or 'transparent'"
        raise InvalidField(field, f"must be {expected}")
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


class RenderedQr(msgspec.Struct, frozen=True):
    """A rendered QR image with what an HTTP response needs to serve and cache it."""

    body: bytes
    media_type: str
    etag: str


class QrCacheStatistics(msgspec.Struct, frozen=True):
    """Counters of a QrRenderer's cache."""

    hits: int
    misses: int
    size: int
    max_entries: int


class QrRenderer:
    """Renders QR images with segno, keeping the most recently used ones in a bounded LRU cache.

    Safe to call from several threads (e.g. through `anyio.to_thread`): the cache is locked,
    and two threads missing on the same key both render, which only costs time.
    """

    def __init__(self, max_entries: int = 512) -> None:
        if max_entries < 0:
            raise ValueError(f"max_entries must not be negative, not {max_entries}")
        self._max_entries = max_entries
        self._cache: OrderedDict[tuple[str, QrOptions], RenderedQr] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def render(self, payload: str, options: QrOptions) -> RenderedQr:
        """Return the QR image of `payload` drawn as `options` say, from the cache if there.

        Raises segno's DataOverflowError (a ValueError) if the payload cannot fit any QR code.
        """
        key = (payload, options)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self._hits += 1
                return cached
            self._misses += 1
        rendered = RenderedQr(
            body=_draw(payload, options),
            media_type=_MEDIA_TYPES[options.format],
            etag=etag_for(payload, options),
        )
        with self._lock:
            if self._max_entries:
                self._cache[key] = rendered
                self._cache.move_to_end(key)
                while len(self._cache) > self._max_entries:
                    self._cache.popitem(last=False)
        return rendered

    def statistics(self) -> QrCacheStatistics:
        """Return the cache's hit and miss counts and its current and maximum size."""
        with self._lock:
            return QrCacheStatistics(
                hits=self._hits,
                misses=self._misses,
                size=len(self._cache),
                max_entries=self._max_entries,
            )


def etag_for(payload: str, options: QrOptions) -> str:
    """Return the strong ETag of the image of `payload` with `options`, the same in every process.

    segno's version is part of the hash: a strong ETag promises identical bytes, which a
    different segno may not produce.
    """
    material = msgspec.json.encode([segno.__version__, payload, options])
    return '"' + hashlib.blake2b(material, digest_size=16).hexdigest() + '"'


def _draw(payload: str, options: QrOptions) -> bytes:
    # segno raises the error correction level above the one asked for when that fits in the
    # same symbol size (boost_error), so the image is never weaker than requested.
    qr = segno.make_qr(payload, error=options.ecc)
    light = None if options.light == TRANSPARENT else options.light
    out = io.BytesIO()
    if options.format == "svg":
        # unit="px" makes segno write width, height and a viewBox: a standalone document
        # that also scales cleanly when embedded. The title is its accessible name.
        qr.save(
            out,
            kind="svg",
            scale=options.scale,
            border=options.border,
            dark=options.dark,
            light=light,
            unit="px",
            title=f"QR code: {payload}",
        )
    else:
        qr.save(
            out,
            kind="png",
            scale=options.scale,
            border=options.border,
            dark=options.dark,
            light=light,
        )
    return out.getvalue()
