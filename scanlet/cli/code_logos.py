"""``scanlet codes logo SLUG FILE`` and ``scanlet codes logo SLUG --delete``: a code's logo
from the shell.

The file goes through the API's checks of an upload (``load_logo``: PNG and JPEG decoded
with a pixel cap, SVG sanitised) and the codes actor's command, so what the API refuses
this refuses with the same reason, and the change is the same ``code.updated`` event.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import shtab

from scanlet.actors.access.roles import Role
from scanlet.actors.codes.logos import MAX_LOGO_BYTES, LogoType
from scanlet.adapters.qr_images import load_logo
from scanlet.cli.acting import acting, as_flag
from scanlet.cli.code_domain import addressed_key, domain_flag
from scanlet.cli.common import (
    EXIT_OK,
    CommandFailed,
    Subcommands,
    db_flag,
    print_fields,
    print_json,
    run,
    settings_from,
)
from scanlet.cli.contexts import codes_context
from scanlet.http.resources import CodeResource
from scanlet.http.scoping import visible_code

__all__ = ("register_logo",)

#: A file's media type by its suffix: the command line's Content-Type. The bytes must then
#: be what the suffix says (a JPEG named .png is refused as the API refuses it).
MEDIA_TYPES: dict[str, LogoType] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}


def _read(path: str) -> tuple[bytes, LogoType]:
    """The file's bytes and media type; one line naming ``logo`` for what cannot be one.
    No more than the limit and one byte is read, however large the file."""
    media_type = MEDIA_TYPES.get(Path(path).suffix.lower())
    if media_type is None:
        raise CommandFailed(f"logo: {path} is not a .png, .jpg, .jpeg or .svg file")
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_LOGO_BYTES + 1)
    except OSError as exc:
        raise CommandFailed(f"logo: cannot read {path} ({exc.strerror})") from None
    if len(data) > MAX_LOGO_BYTES:
        raise CommandFailed(f"logo: must be at most {MAX_LOGO_BYTES // 1024} KiB")
    if not data:
        raise CommandFailed(f"logo: {path} is empty")
    return data, media_type


def _show(resource: CodeResource, fmt: str) -> None:
    if fmt == "json":
        print_json(resource)
    else:
        print_fields({"slug": resource.slug, "has_logo": resource.has_logo})


def cmd_codes_logo(args: argparse.Namespace) -> int:
    """Make FILE the code's logo, or remove its logo with ``--delete``."""
    if (args.file is None) == (not args.delete):
        args.parser.error("give FILE to upload a logo, or --delete to remove it (not both)")
    # Checked before the database is opened: a file that cannot be a logo needs no code.
    logo = None if args.delete else load_logo(*_read(args.file))

    async def change() -> CodeResource:
        async with codes_context(settings_from(args)) as ctx:
            principal = await acting(ctx.storage, args, Role.EDITOR)
            key = addressed_key(ctx.index.domains, args)
            await visible_code(ctx.storage.codes, principal, key)
            row = await ctx.storage.codes.get(key)
            if row is None:
                raise CommandFailed(f"no code with slug {args.slug!r}")
            if logo is None and row.logo is None:
                raise CommandFailed(f"code {args.slug!r} has no logo")
            stored = None if logo is None else logo.stored()
            row = await ctx.codes.set_logo(key, stored, principal.author)
            return (await ctx.resources([row]))[0]

    resource = run(change)
    if args.delete and args.format == "table":
        print(f"removed the logo of code {args.slug}")
    else:
        _show(resource, args.format)
    return EXIT_OK


def register_logo(codes_sub: Subcommands) -> None:
    """``codes logo``, beside the other ``codes`` commands."""
    logo = codes_sub.add_parser(
        "logo",
        help="upload a code's logo (PNG, JPEG or SVG) or remove it",
        description="The logo logo=true draws in the middle of the code's QR image: a PNG, "
        "JPEG or SVG file of at most 256 KiB, by its suffix, checked as the API checks an "
        "upload (PUT /api/v1/codes/{slug}/logo).",
    )
    logo.add_argument("slug", metavar="SLUG")
    file_arg = logo.add_argument(
        "file", metavar="FILE", nargs="?", help="a .png, .jpg, .jpeg or .svg file"
    )
    file_arg.complete = shtab.FILE  # type: ignore[attr-defined]  # read by shtab only
    logo.add_argument("--delete", action="store_true", help="remove the code's logo")
    domain_flag(logo, "the code of SLUG on this registered host (default: the default domain)")
    logo.add_argument("--format", choices=["table", "json"], default="table")
    as_flag(logo)
    db_flag(logo)
    logo.set_defaults(func=cmd_codes_logo, parser=logo)
