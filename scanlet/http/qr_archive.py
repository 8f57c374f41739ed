"""``GET /api/v1/qr-archive``: the QR images of many codes in one ZIP, streamed as it is built.

One file per code (``SLUG.FORMAT``) and an ``index.csv`` (slug, title, target, short link,
file, and why a code has no file). Memory stays flat however many codes: one image at a
time is drawn (in a worker thread, checked by decoding like every image), written to the ZIP
and sent; the index waits in a temporary file (kept in memory only while small). The first
code is drawn before the answer starts, so a combination that cannot scan is a 422, not a
broken download. Archives are CPU work: only a few are built at once per instance.
"""

from __future__ import annotations

import csv
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import IO

import anyio
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from scanlet.actors.access.keys import Scope as KeyScope
from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.validation import MAX_TAG_LENGTH
from scanlet.adapters.qr_images import QrOptions, RenderedQr
from scanlet.http.codes_api import MAX_QUERY_LENGTH
from scanlet.http.endpoint import Endpoint, Param, Reply
from scanlet.http.params import invalid, query_str
from scanlet.http.qr_api import qr_option_params
from scanlet.http.resources import qr_payload, short_url
from scanlet.http.services import Services, services
from scanlet.storage.records import CodePage, CodeRow

__all__ = ("qr_archive_endpoints",)

#: Codes read from the database at a time.
PAGE = 200
#: The index's columns.
INDEX_HEADER = ("slug", "title", "target", "short_url", "file", "error")
#: Formats already compressed: deflating them again costs CPU and saves nothing.
_STORED = frozenset({"png", "pdf"})


class _Chunks:
    """A write-only sink for ``zipfile``: what was written since the last ``take``.

    It cannot seek, so zipfile writes each entry's sizes after its data (a data
    descriptor), which every unzip tool reads."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing buffered beyond ``take``."""

    def close(self) -> None:
        """Nothing to release: the response owns the bytes."""

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


class _ArchiveResponse(StreamingResponse):
    """A streamed answer that gives its build slot back however it ends (finished, failed,
    or the client went away)."""

    def __init__(self, body: AsyncIterator[bytes], release: Callable[[], None]) -> None:
        super().__init__(
            body,
            media_type="application/zip",
            headers={"Content-Disposition": 'attachment; filename="qr-codes.zip"'},
        )
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _render(svc: Services, options: QrOptions, row: CodeRow) -> RenderedQr:
    return svc.qr.render(
        qr_payload(svc.settings.public_base_url, row.slug), options, None, remember=False
    )


def _refusal(options: QrOptions, exc: Exception) -> tuple[str, str]:
    """The field to blame and why, for an image that cannot be drawn or would not scan."""
    if isinstance(exc, InvalidField):
        return exc.field, exc.msg
    return "ecc", f"the payload does not fit a QR code at ecc={options.ecc}: {exc}"


async def qr_archive(request: Request) -> StreamingResponse:
    """Every live code (of ``tag``, matching ``q``) as a QR image, zipped."""
    svc = services(request)
    try:
        options = QrOptions.parse(request.query_params)
    except InvalidField as exc:
        raise invalid(exc.field, exc.msg) from None
    if options.logo:
        raise invalid("logo", "archives are drawn without logos")
    tag = query_str(request, "tag", max_length=MAX_TAG_LENGTH)
    q = query_str(request, "q", max_length=MAX_QUERY_LENGTH)
    first = await svc.storage.codes.page(limit=PAGE, cursor=None, tag=tag, q=q)
    drawn: RenderedQr | None = None
    if first.items:
        try:
            drawn = await anyio.to_thread.run_sync(_render, svc, options, first.items[0])
        except (InvalidField, ValueError) as exc:
            raise invalid(*_refusal(options, exc)) from None
    release = svc.qr_archives.take()
    try:
        body = _build(svc, options, tag, q, first, drawn)
        return _ArchiveResponse(body, release)
    except BaseException:
        release()
        raise


async def _build(
    svc: Services,
    options: QrOptions,
    tag: str | None,
    q: str | None,
    page: CodePage,
    drawn: RenderedQr | None,
) -> AsyncIterator[bytes]:
    sink = _Chunks()
    base = svc.settings.public_base_url
    compression = zipfile.ZIP_STORED if options.format in _STORED else zipfile.ZIP_DEFLATED
    with tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", newline="") as index:
        rows = csv.writer(index)
        rows.writerow(INDEX_HEADER)
        with zipfile.ZipFile(sink, "w") as archive:
            while True:
                for row in page.items:
                    if drawn is None:
                        try:
                            drawn = await anyio.to_thread.run_sync(
                                partial(_render, svc, options, row)
                            )
                        except (InvalidField, ValueError) as exc:
                            field, why = _refusal(options, exc)
                            rows.writerow(_index_row(row, base, "", f"{field}: {why}"))
                            continue
                    name = f"{row.slug}.{options.format}"
                    entry = zipfile.ZipInfo(name, _zip_time(row))
                    entry.compress_type = compression
                    archive.writestr(entry, drawn.body)
                    drawn = None
                    rows.writerow(_index_row(row, base, name, ""))
                    yield sink.take()
                if page.next_cursor is None:
                    break
                page = await svc.storage.codes.page(
                    limit=PAGE, cursor=page.next_cursor, tag=tag, q=q
                )
            index.seek(0)
            listing = zipfile.ZipInfo("index.csv", _zip_time(None))
            listing.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(listing, "w") as out:
                _copy(index, out)
        yield sink.take()


def _copy(source: IO[str], out: IO[bytes]) -> None:
    while chunk := source.read(1 << 16):
        out.write(chunk.encode())


def _index_row(row: CodeRow, base: str, file: str, error: str) -> tuple[str, ...]:
    return (row.slug, row.title or "", row.target, short_url(base, row.slug), file, error)


def _zip_time(row: CodeRow | None) -> tuple[int, int, int, int, int, int]:
    """An entry's time: its code's last change (the same archive twice is the same bytes),
    the DOS epoch for the index."""
    if row is None:
        return (1980, 1, 1, 0, 0, 0)
    at = row.updated_at
    return (max(at.year, 1980), at.month, at.day, at.hour, at.minute, at.second)


def qr_archive_endpoints() -> list[Endpoint]:
    """The archive route."""
    return [
        Endpoint(
            "GET",
            "/api/v1/qr-archive",
            qr_archive,
            "QR images of many codes, zipped",
            "codes",
            scope=KeyScope.READ,
            description=(
                "Every live code (only those with `tag`, or matching `q`) as a QR image drawn "
                "with the given options, one `SLUG.FORMAT` file each, and an `index.csv` "
                "(slug, title, target, short_url, file, error). Streamed as it is built, "
                "with memory flat however many codes. The first code is drawn before the "
                "answer starts: a combination that would not scan is a 422. At most two "
                "archives are built at once per instance (429 with Retry-After beyond)."
            ),
            params=[
                Param("tag", "query", {"type": "string"}, "Only codes with this tag."),
                Param("q", "query", {"type": "string"}, "Only codes matching this text."),
                *[param for param in qr_option_params() if param.name != "logo"],
            ],
            extra_problems=[429],
            replies=[Reply(200, "A ZIP file.", media_type="application/zip")],
        )
    ]
