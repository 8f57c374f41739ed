"""QR images of codes, print-ready: SVG, PNG, PDF and EPS at a physical size, styled
modules, finder colours, a label in a bundled font, a logo, and a decode check of every
image before it is sent.

The pieces, each in its own module: ``_options`` (what a request may ask), ``_layout`` (one
drawing in module units), ``_raster`` and ``_vector`` (the formats), ``_font``, ``_logo``
(validation and the SVG sanitiser), ``_codewords`` (how big a logo error correction can
lose), ``_check`` (contrast and decoding), ``_renderer`` (cached, checked rendering) and
``_facts`` (version and module count; a smaller alphanumeric payload), ``_text`` (half
blocks for a terminal), ``_source`` (the port the QR route finds a code's logo through) and
``_stored`` (its adapter over the codes' stored logos).
"""

from scanlet.adapters.qr_images._check import MIN_CONTRAST, Unscannable, contrast_ratio
from scanlet.adapters.qr_images._facts import (
    CompactPayload,
    alphanumeric_payload,
    compact_payload,
    qr_facts,
)
from scanlet.adapters.qr_images._logo import (
    LOGO_TYPES,
    MAX_LOGO_BYTES,
    MAX_PIXELS,
    MAX_RASTER_BYTES,
    MAX_SVG_BYTES,
    Logo,
    LogoRejected,
    LogoType,
    load_logo,
    sanitize_svg,
    validate_raster,
)
from scanlet.adapters.qr_images._options import (
    FORMATS,
    MAX_LABEL,
    MEDIA_TYPES,
    TRANSPARENT,
    Length,
    QrOptions,
)
from scanlet.adapters.qr_images._renderer import (
    QrCacheStatistics,
    QrRenderer,
    RenderedQr,
    etag_for,
)
from scanlet.adapters.qr_images._source import NO_LOGOS, LogoSource, NoLogos
from scanlet.adapters.qr_images._stored import StoredLogos
from scanlet.adapters.qr_images._text import terminal_lines

__all__ = (
    "FORMATS",
    "LOGO_TYPES",
    "MAX_LABEL",
    "MAX_LOGO_BYTES",
    "MAX_PIXELS",
    "MAX_RASTER_BYTES",
    "MAX_SVG_BYTES",
    "MEDIA_TYPES",
    "MIN_CONTRAST",
    "NO_LOGOS",
    "TRANSPARENT",
    "CompactPayload",
    "Length",
    "Logo",
    "LogoRejected",
    "LogoSource",
    "LogoType",
    "NoLogos",
    "QrCacheStatistics",
    "QrOptions",
    "QrRenderer",
    "RenderedQr",
    "StoredLogos",
    "Unscannable",
    "alphanumeric_payload",
    "compact_payload",
    "contrast_ratio",
    "etag_for",
    "load_logo",
    "qr_facts",
    "sanitize_svg",
    "terminal_lines",
    "validate_raster",
)
