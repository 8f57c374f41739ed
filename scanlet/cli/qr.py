"""``scanlet qr``: a code's QR image to a file or stdout, or drawn on the terminal.

The options are the API's query parameters, parsed and checked by the same ``QrOptions``,
and the image comes from the same renderer, decoded before it is written: what the API
would refuse (422) this refuses with the same reason.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import BinaryIO

from scanlet.actors.codes.code import Code
from scanlet.actors.codes.domain_index import DomainIndex
from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.index import CodeIndex
from scanlet.adapters.qr_images import (
    FORMATS,
    Logo,
    QrOptions,
    QrRenderer,
    StoredLogos,
    terminal_lines,
)
from scanlet.cli.common import (
    EXIT_OK,
    CommandFailed,
    Subcommands,
    db_flag,
    run,
    settings_from,
)
from scanlet.cli.progress import progress
from scanlet.config import Settings
from scanlet.http.qr_archive import QrArchive
from scanlet.http.resources import QrLinks
from scanlet.storage.opening import open_storage
from scanlet.storage.ports import Storage

__all__ = ("register",)

#: Flags that are the API's query parameters of the same name.
_PARAMS = ("format", "size", "dpi", "scale", "border", "ecc", "shape", "dark", "light", "finder")


async def _links(settings: Settings, storage: Storage) -> QrLinks:
    """How the server writes payloads; with compact links, which slugs may have one
    (the index the codes actor would load)."""
    domains = DomainIndex.of_rows(settings.public_base_url, await storage.domains.all())
    index = CodeIndex(domains)
    if settings.qr_compact:
        for row in await storage.codes.all():
            index.reserve(row.slug)
    return QrLinks(domains, settings.qr_compact, index.unique_ignoring_case)


def _payload(args: argparse.Namespace, with_logo: bool) -> tuple[str, Logo | None]:
    """The code's QR payload, and its logo (checked again as the server checks a stored
    one) when asked for; the code must be live, as for ``GET .../qr`` (404 there), and have
    a logo to draw (422 naming ``logo`` there)."""
    settings = settings_from(args)

    async def find() -> tuple[str, Logo | None]:
        async with open_storage(settings, create=False) as storage:
            row = await storage.codes.get(args.slug)
            if row is None:
                raise CommandFailed(f"no code with slug {args.slug!r}")
            payload = (await _links(settings, storage)).payload(Code.from_row(row))
            if not with_logo:
                return payload, None
            logo = await StoredLogos(storage.codes).logo_for(args.slug)
            if logo is None:
                raise InvalidField("logo", "this code has no logo")
            return payload, logo

    return run(find)


def _options(args: argparse.Namespace) -> QrOptions:
    params = {name: str(getattr(args, name)) for name in _PARAMS if getattr(args, name) is not None}
    if args.label is not None:
        params["label"] = args.label
    if args.logo:
        params["logo"] = "true"
    return QrOptions.parse(params)


def _write(path: str, body: bytes) -> None:
    if path == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return
    try:
        Path(path).write_bytes(body)
    except OSError as exc:
        raise CommandFailed(f"cannot write {path}: {exc.strerror}") from None


def cmd_qr(args: argparse.Namespace) -> int:
    """Write the image to ``-o`` (``-`` for stdout); with no ``-o`` draw it on a terminal,
    or write it to stdout when that is a pipe."""
    options = _options(args)  # bad options fail before the database is opened
    output = args.output
    on_terminal = output is None and sys.stdout.isatty()
    # The terminal's half blocks draw the modules alone: no logo, shape or colours.
    payload, logo = _payload(args, options.logo and not on_terminal)
    if on_terminal:
        for line in terminal_lines(payload, options.ecc, options.border):
            print(line)
        print(payload)
        return EXIT_OK
    image = QrRenderer(max_entries=0).render(payload, options, logo)
    _write(output or "-", image.body)
    if output not in (None, "-"):
        print(f"wrote {output} ({options.format}, {len(image.body)} bytes) for {payload}")
    return EXIT_OK


def cmd_qr_archive(args: argparse.Namespace) -> int:
    """Write a ZIP of the chosen codes' images and an index.csv to ``-o`` or stdout."""
    options = _options(args)
    settings = settings_from(args)
    output = args.output or "-"
    if output == "-" and sys.stdout.isatty():
        raise CommandFailed("a ZIP file is not for the terminal: use -o FILE or redirect stdout")

    async def write(out: BinaryIO) -> int:
        async with open_storage(settings, create=False) as storage:
            archive = QrArchive(
                storage.codes,
                QrRenderer(max_entries=0),
                await _links(settings, storage),
                options,
                tag=args.tag,
                q=args.q,
                logos=StoredLogos(storage.codes),
            )
            codes = 0
            with progress("qr-archive", unit="code", quiet=args.quiet) as bar:
                async for chunk in await archive.open():
                    out.write(chunk)
                    codes += 1
                    bar.advance()
            out.flush()
            return codes - 1  # the last chunk is the index and the directory

    if output == "-":
        written = run(lambda: write(sys.stdout.buffer))
    else:
        try:
            with open(output, "wb") as file:
                written = run(lambda: write(file))
        except OSError as exc:
            raise CommandFailed(f"cannot write {output}: {exc.strerror}") from None
    if output != "-":
        print(f"wrote {output}: {written} images and index.csv")
    return EXIT_OK


def _option_flags(parser: argparse.ArgumentParser) -> None:
    """The API's image options as flags (``QrOptions`` checks them)."""
    parser.add_argument("--format", choices=list(FORMATS), help="image format (svg)")
    parser.add_argument("--size", help="width with the quiet zone: 30mm, 1.5in, 3cm, 600px")
    parser.add_argument("--dpi", help="PNG resolution for a size in mm, cm or in (300)")
    parser.add_argument("--scale", help="pixels per module when no --size is given (10)")
    parser.add_argument("--border", help="quiet zone in modules, 0-20 (4)")
    parser.add_argument("--ecc", help="error correction: L, M, Q or H (M)")
    parser.add_argument("--shape", help="data modules: square, rounded or dots")
    parser.add_argument("--dark", help="hex colour of dark modules (000)")
    parser.add_argument("--light", help="hex background colour, or transparent (fff)")
    parser.add_argument("--finder", help="hex colour of the finder patterns")
    parser.add_argument("--label", help="text under the code, up to 40 characters")
    parser.add_argument(
        "--logo", action="store_true", help="the code's logo in the middle (error correction H)"
    )


def register(sub: Subcommands) -> None:
    qr = sub.add_parser(
        "qr",
        help="write a code's QR image, or draw it on the terminal",
        description="The options are those of GET /api/v1/codes/{slug}/qr; every image is "
        "decoded before it is written.",
    )
    qr.add_argument("slug", metavar="SLUG")
    qr.add_argument("-o", "--output", metavar="FILE", help="where to write the image; - for stdout")
    _option_flags(qr)
    db_flag(qr)
    qr.set_defaults(func=cmd_qr)

    archive = sub.add_parser(
        "qr-archive",
        help="write a ZIP of many codes' QR images and an index.csv",
        description="The archive of GET /api/v1/qr-archive: every live code (or those with "
        "--tag, or matching --q), one image each, decoded before it is written.",
    )
    archive.add_argument("--tag", help="only codes with this tag")
    archive.add_argument("--q", metavar="TEXT", help="only codes matching this text")
    archive.add_argument("-o", "--output", metavar="FILE", help="the ZIP file; - for stdout")
    archive.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _option_flags(archive)
    db_flag(archive)
    archive.set_defaults(func=cmd_qr_archive)
