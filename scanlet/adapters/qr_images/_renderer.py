"""The renderer: options (+ logo) -> checked image bytes, cached by ETag."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import msgspec
import PIL
import segno
from PIL import Image

from scanlet.adapters.qr_images._check import Unscannable, blame, check_colours, decodes_to
from scanlet.adapters.qr_images._layout import Layout, lay_out
from scanlet.adapters.qr_images._logo import Logo
from scanlet.adapters.qr_images._options import QrOptions
from scanlet.adapters.qr_images._raster import encode_png, raster
from scanlet.adapters.qr_images._vector import eps, pdf, svg

__all__ = ("QrCacheStatistics", "QrRenderer", "RenderedQr", "etag_for")

#: Bumped whenever the drawing or the check changes, so that ETags change with the bytes.
DRAWING_REVISION = 2
#: Pixels per module of the raster decoded to check an SVG, PDF or EPS image.
CHECK_PIXELS = 6
_MAX_REFUSALS = 1024


class RenderedQr(msgspec.Struct, frozen=True):
    """A rendered QR image with what an HTTP response needs to serve and cache it.

    ``checked`` is True when the server decoded the image (or a raster of the same
    drawing) and read back exactly its payload.
    """

    body: bytes
    media_type: str
    etag: str
    checked: bool = False


class QrCacheStatistics(msgspec.Struct, frozen=True):
    """Counters of a QrRenderer's caches: images, decode checks and remembered refusals."""

    hits: int
    misses: int
    size: int
    max_entries: int
    checks: int = 0
    refusals: int = 0


class QrRenderer:
    """Renders QR images, keeping the most recently used ones in a bounded LRU cache keyed by
    ETag, and the ETags of refused combinations, so a repeated request costs a lookup.

    Safe to call from several threads (e.g. through `anyio.to_thread`): the caches are
    locked, and two threads missing on the same key both render, which only costs time.
    """

    def __init__(self, max_entries: int = 512) -> None:
        if max_entries < 0:
            raise ValueError(f"max_entries must not be negative, not {max_entries}")
        self._max_entries = max_entries
        self._cache: OrderedDict[str, RenderedQr] = OrderedDict()
        self._refused: OrderedDict[str, Unscannable] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._checks = 0

    def render(
        self,
        payload: str,
        options: QrOptions,
        logo: Logo | None = None,
        *,
        check: bool = True,
        remember: bool = True,
    ) -> RenderedQr:
        """The image of ``payload`` drawn as ``options`` say (with ``logo`` when
        ``options.logo``), decoded before it is returned unless ``check`` is False. With
        ``remember=False`` a new image stays out of the cache (an archive of a thousand
        codes would push out every image worth keeping).

        Raises Unscannable (an InvalidField naming the option to blame) when the image would
        not scan, InvalidField for what cannot be drawn (no logo given for ``logo=True``, a
        label longer than the code is wide, a PNG over 4096 pixels), and segno's
        DataOverflowError (a ValueError) when the payload cannot fit any QR code.
        """
        etag = etag_for(payload, options, logo)
        with self._lock:
            cached = self._cache.get(etag)
            if cached is not None and (cached.checked or not check):
                self._cache.move_to_end(etag)
                self._hits += 1
                return cached
            refused = self._refused.get(etag) if check else None
            if refused is not None:
                self._hits += 1
                raise Unscannable(refused.field, refused.msg)
            self._misses += 1
        try:
            body, checked = self._draw(payload, options, logo, check)
        except Unscannable as exc:
            with self._lock:
                self._refused[etag] = exc
                while len(self._refused) > _MAX_REFUSALS:
                    self._refused.popitem(last=False)
            raise
        rendered = RenderedQr(body=body, media_type=options.media_type, etag=etag, checked=checked)
        with self._lock:
            if self._max_entries and remember:
                self._cache[etag] = rendered
                self._cache.move_to_end(etag)
                while len(self._cache) > self._max_entries:
                    self._cache.popitem(last=False)
        return rendered

    def _draw(
        self, payload: str, options: QrOptions, logo: Logo | None, check: bool
    ) -> tuple[bytes, bool]:
        layout = lay_out(payload, options, logo)
        if check:
            check_colours(options)
        if options.format == "png":
            per_module = layout.pixels_per_module()
            image = raster(layout, per_module)
            if check:
                self._verify(layout, image, per_module)
            return encode_png(image, options.dpi), check
        title = _title(payload, options)
        writer = {"svg": svg, "pdf": pdf, "eps": eps}[options.format]
        body = writer(layout, title)
        if check:
            self._verify(layout, raster(layout, CHECK_PIXELS), CHECK_PIXELS)
        return body, check

    def _verify(self, layout: Layout, image: Image.Image, per_module: float) -> None:
        with self._lock:
            self._checks += 1
        if not decodes_to(image, layout.payload):
            raise blame(layout, per_module)

    def statistics(self) -> QrCacheStatistics:
        """Return the cache's hit and miss counts, its size, and the checks run."""
        with self._lock:
            return QrCacheStatistics(
                hits=self._hits,
                misses=self._misses,
                size=len(self._cache),
                max_entries=self._max_entries,
                checks=self._checks,
                refusals=len(self._refused),
            )


def _title(payload: str, options: QrOptions) -> str:
    title = f"QR code: {payload}"
    return f"{title} ({options.label})" if options.label else title


def etag_for(payload: str, options: QrOptions, logo: Logo | None = None) -> str:
    """Return the strong ETag of the image of `payload` with `options` (and `logo`, when
    `options.logo`), the same in every process.

    segno's and Pillow's versions and the drawing's revision are part of the hash: a strong
    ETag promises identical bytes, which other versions may not produce.
    """
    material = msgspec.json.encode(
        [
            DRAWING_REVISION,
            segno.__version__,
            PIL.__version__,
            payload,
            options,
            logo.digest if logo is not None and options.logo else None,
        ]
    )
    return '"' + hashlib.blake2b(material, digest_size=16).hexdigest() + '"'
