"""QR images of codes: the options a request may set, and a caching renderer built on segno."""

from scanlet.adapters.qr_images._options import (
    TRANSPARENT,
    QrCacheStatistics,
    QrOptions,
    QrRenderer,
    RenderedQr,
    etag_for,
)

__all__ = ("TRANSPARENT", "QrCacheStatistics", "QrOptions", "QrRenderer", "RenderedQr", "etag_for")
