"""``GET /api/v1/qr-archive``: the QR images of many codes in one ZIP, streamed as it is built.

One file per code (``SLUG.FORMAT``) and an ``index.csv`` (slug, title, target, short link,
file, why a code has no file, and its kind). Memory stays flat however many codes: one image
at a time is drawn (in a worker thread, checked by decoding like every image), written to
the ZIP and sent; the index waits in a temporary file (kept in memory only while small). The
first code is drawn before the answer starts, so a combination that cannot scan is a 422, not a
broken download. Archives are CPU work: only a few are built at once per instance.
With ``logo=true`` a code with a logo gets it (each different logo is checked once, then
kept by its hash) and a code without one is drawn plain, at the same error correction.
"""

from __future__ import annotations

import csv
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import IO

import anyio
import msgspec
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from scanlet.actors.access.keys import Scope as KeyScope
from scanlet.actors.codes.code import Code
from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.validation import MAX_TAG_LENGTH
from scanlet.adapters.qr_images import NO_LOGOS, LogoSource, QrOptions, QrRenderer, RenderedQr
from scanlet.http.codes_api import MAX_QUERY_LENGTH
from scanlet.http.endpoint import Endpoint, Param, Reply
from scanlet.http.params import invalid, query_str
from scanlet.http.qr_api import qr_option_params
from scanlet.http.resources import QrLinks, qr_links
from scanlet.http.scoping import NO_LIMIT, CodeLimit, code_limit
from scanlet.http.services import services
from scanlet.storage.ports import CodeRepository
from scanlet.storage.records import CodePage, CodeRow

__all__ = ("QrArchive", "qr_archive_endpoints")

#: Codes read from the database at a time.
PAGE = 200
#: The index's columns; ``kind`` came later and is last, so columns read by position stay.
INDEX_HEADER = ("slug", "title", "target", "short_url", "file", "error", "kind")
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


class QrArchive:
    """A ZIP of codes' QR images with an index, built as it is read: the API streams it,
    ``scanlet qr-archive`` writes it to stdout."""

    def __init__(
        self,
        codes: CodeRepository,
        renderer: QrRenderer,
        links: QrLinks,
        options: QrOptions,
        *,
        tag: str | None = None,
        q: str | None = None,
        within: CodeLimit = NO_LIMIT,
        logos: LogoSource = NO_LOGOS,
    ) -> None:
        self._codes = codes
        self._logos = logos
        # Codes without a logo, in an archive asking for logos: drawn plain, alike otherwise.
        self._plain = msgspec.structs.replace(options, logo=False)
        self._within = within
        self._renderer = renderer
        self._links = links
        self._options = options
        self._tag = tag
        self._q = q

    async def open(self) -> AsyncIterator[bytes]:
        """The archive's bytes, in chunks. The first code is drawn before this returns, so
        options that cannot work raise InvalidField (naming the option) here, not midway."""
        first = await self._page(None)
        if not first.items:
            return self._chunks(first, None)
        drawn = await self._draw(first.items[0])
        if not isinstance(drawn, RenderedQr):
            raise drawn
        return self._chunks(first, drawn)

    async def _page(self, cursor: str | None) -> CodePage:
        return await self._codes.page(
            limit=PAGE, cursor=cursor, tag=self._tag, q=self._q, **self._within.page()
        )

    async def _draw(self, row: CodeRow) -> RenderedQr | InvalidField:
        """The code's image (off the event loop), or why it cannot be drawn."""
        payload = self._links.payload(Code.from_row(row))
        options, logo = self._options, None
        if options.logo:
            logo = await self._logos.logo_for(row.slug) if row.logo is not None else None
            if logo is None:
                options = self._plain
        render = partial(self._renderer.render, payload, options, logo, remember=False)
        try:
            return await anyio.to_thread.run_sync(render)
        except InvalidField as exc:
            return exc
        except ValueError as exc:  # segno: the payload cannot fit at this ecc
            detail = f"the payload does not fit a QR code at ecc={self._options.ecc}: {exc}"
            return InvalidField("ecc", detail)

    async def _chunks(self, page: CodePage, drawn: RenderedQr | None) -> AsyncIterator[bytes]:
        sink = _Chunks()
        fmt = self._options.format
        compression = zipfile.ZIP_STORED if fmt in _STORED else zipfile.ZIP_DEFLATED
        with tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", newline="") as index:
            rows = csv.writer(index)
            rows.writerow(INDEX_HEADER)
            with zipfile.ZipFile(sink, "w") as archive:
                while True:
                    for row in page.items:
                        image = drawn if drawn is not None else await self._draw(row)
                        drawn = None
                        if not isinstance(image, RenderedQr):
                            rows.writerow(self._index_row(row, "", f"{image.field}: {image.msg}"))
                            continue
                        name = f"{row.slug}.{fmt}"
                        entry = zipfile.ZipInfo(name, _zip_time(row))
                        entry.compress_type = compression
                        archive.writestr(entry, image.body)
                        rows.writerow(self._index_row(row, name, ""))
                        yield sink.take()
                    if page.next_cursor is None:
                        break
                    page = await self._page(page.next_cursor)
                index.seek(0)
                listing = zipfile.ZipInfo("index.csv", _zip_time(None))
                listing.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(listing, "w") as out:
                    _copy(index, out)
            yield sink.take()

    def _index_row(self, row: CodeRow, file: str, error: str) -> tuple[str, ...]:
        # A static code has neither a target nor a link: its image holds its content.
        code = Code.from_row(row)
        link = self._links.short_url(code) or ""
        return (row.slug, row.title or "", row.target, link, file, error, code.kind)


async def qr_archive(request: Request) -> StreamingResponse:
    """Every live code (of ``tag``, matching ``q``) as a QR image, zipped."""
    svc = services(request)
    release = svc.qr_archives.take()
    try:
        options = QrOptions.parse(request.query_params)
        archive = QrArchive(
            svc.storage.codes,
            svc.qr,
            qr_links(svc),
            options,
            tag=query_str(request, "tag", max_length=MAX_TAG_LENGTH),
            q=query_str(request, "q", max_length=MAX_QUERY_LENGTH),
            # A limited key gets the archive of its own codes, as its lists show.
            within=code_limit(request.state.principal),
            logos=svc.logos,
        )
        body = await archive.open()
    except InvalidField as exc:
        release()
        raise invalid(exc.field, exc.msg) from None
    except BaseException:
        release()
        raise
    return _ArchiveResponse(body, release)


def _copy(source: IO[str], out: IO[bytes]) -> None:
    while chunk := source.read(1 << 16):
        out.write(chunk.encode())


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
                "(slug, title, target, short_url, file, error, kind; a static code has no target "
                "or short_url). Streamed as it is built, "
                "with memory flat however many codes. The first code is drawn before the "
                "answer starts: a combination that would not scan is a 422. With `logo=true` "
                "each code with a logo gets it and the others are drawn plain. At most two "
                "archives are built at once per instance (429 with Retry-After beyond)."
            ),
            params=[
                Param("tag", "query", {"type": "string"}, "Only codes with this tag."),
                Param("q", "query", {"type": "string"}, "Only codes matching this text."),
                *qr_option_params(),
            ],
            extra_problems=[429],
            replies=[Reply(200, "A ZIP file.", media_type="application/zip")],
        )
    ]
