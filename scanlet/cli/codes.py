"""``scanlet codes``: create, list, show, change and delete codes from the shell.

Every change goes through the codes actor (``contexts.codes_context``) and every document
the flags make is decoded as the API decodes a request body (``decode_json``): the same
rules, the same refusals, the same events. With ``--as EMAIL`` a change is that user's: it
needs the editor role, keeps to their tags and is recorded as theirs (``acting``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import msgspec

from scanlet.actors.access.roles import Role
from scanlet.actors.codes.kinds import KINDS
from scanlet.actors.codes.messages import CodeChanges, CreateCode
from scanlet.actors.codes.validation import MAX_TAG_LENGTH
from scanlet.cli.acting import acting, as_flag
from scanlet.cli.code_domain import addressed_key, domain_flag
from scanlet.cli.code_logos import register_logo
from scanlet.cli.common import (
    EXIT_OK,
    CommandFailed,
    Parser,
    Subcommands,
    db_flag,
    print_fields,
    print_json,
    print_table,
    run,
    settings_from,
)
from scanlet.cli.contexts import codes_context
from scanlet.cli.users import read_password
from scanlet.http.body import decode_json
from scanlet.http.codes_api import MAX_QUERY_LENGTH
from scanlet.http.params import query_str
from scanlet.http.resources import CodeResource
from scanlet.http.scoping import check_code_tags, check_new_code, visible_code

__all__ = ("register",)

#: Fields ``codes set --clear`` may empty (the API's ``null``; lists become empty ones).
CLEARABLE = (
    "title",
    "tags",
    "valid_from",
    "valid_until",
    "max_scans",
    "fallback_url",
    "rules",
    "split",
    "password",
)
_LISTS = ("tags", "rules", "split")
#: The fields create and set take as they are, by their flags' names.
_PLAIN = ("title", "valid_from", "valid_until", "max_scans", "redirect_status", "fallback_url")
#: The flags that take JSON, and what the API takes there.
_JSON = {"rules": "a list", "split": "a list", "content": "an object"}
#: The listing's page size: the API's largest.
PAGE = 1000
#: ``--domain``'s help where it names an existing code.
_ON_DOMAIN = "the code's domain, a registered host (default: the default domain)"


def _document(fields: dict[str, Any]) -> bytes:
    return msgspec.json.encode(fields)


def _show(resource: CodeResource, fmt: str) -> None:
    if fmt == "json":
        print_json(resource)
        return
    fields = msgspec.structs.asdict(resource)
    # Rules, split arms and content are nested: shown as the JSON their flags take.
    for name in _JSON:
        if fields[name]:
            fields[name] = msgspec.json.encode(fields[name]).decode()
    # A card's or a text's payload has line breaks: shown escaped, one field a line.
    fields["qr_payload"] = _one_line(fields["qr_payload"])
    print_fields(fields)


def _one_line(text: str) -> str:
    """``text`` with its line breaks and tabs written as backslash escapes (``\\r\\n``)."""
    return text.replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")


def _given(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The code fields the flags give (create and set share them)."""
    fields: dict[str, Any] = {
        name: getattr(args, name) for name in _PLAIN if getattr(args, name) is not None
    }
    if args.tag is not None:
        fields["tags"] = args.tag
    if args.forward_query is not None:
        fields["forward_query"] = args.forward_query
    for name, what in _JSON.items():
        text = getattr(args, name)
        if text is not None:
            try:
                fields[name] = json.loads(text)
            except ValueError:
                parser.error(f"--{name}: not JSON ({what}, as the API takes it)")
    if args.password_stdin:
        fields["password"] = read_password()
    return fields


def cmd_codes_create(args: argparse.Namespace) -> int:
    """Create a code; prints it, its short link and QR payload first."""
    fields: dict[str, Any] = _given(args, args.parser)
    # Left out, the API's rules answer: a url code needs a target, another kind content.
    for name in ("target", "kind", "slug", "domain"):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    if args.tracked:
        fields["tracked"] = True
    command = decode_json(_document(fields), CreateCode)

    async def create() -> CodeResource:
        async with codes_context(settings_from(args)) as ctx:
            principal = await acting(ctx.storage, args, Role.EDITOR)
            check_new_code(principal, command, ctx.index.domains)
            row = await ctx.codes.create(command, principal.author)
            return (await ctx.resources([row]))[0]

    _show(run(create), args.format)
    return EXIT_OK


def cmd_codes_list(args: argparse.Namespace) -> int:
    """List live codes, newest first, with the API's filters."""
    settings = settings_from(args)
    # The API's filters, with its limits (a 422 there, one line here).
    filters = {n: getattr(args, n) for n in ("tag", "q") if getattr(args, n) is not None}
    tag = query_str(filters, "tag", max_length=MAX_TAG_LENGTH)
    q = query_str(filters, "q", max_length=MAX_QUERY_LENGTH)

    async def listing() -> list[CodeResource]:
        async with codes_context(settings) as ctx:
            found: list[CodeResource] = []
            cursor: str | None = None
            while True:
                page = await ctx.storage.codes.page(limit=PAGE, cursor=cursor, tag=tag, q=q)
                found += await ctx.resources(page.items)
                cursor = page.next_cursor
                if cursor is None:
                    return found

    codes = run(listing)
    if args.format == "json":
        print_json(codes)
        return EXIT_OK
    print_table(
        ("slug", "enabled", "scans", "target", "title"),
        [(c.slug, "yes" if c.enabled else "no", c.scans, c.target, c.title or "-") for c in codes],
    )
    return EXIT_OK


def cmd_codes_show(args: argparse.Namespace) -> int:
    """Show one code."""

    async def show() -> CodeResource:
        async with codes_context(settings_from(args)) as ctx:
            row = await ctx.storage.codes.get(addressed_key(ctx.index.domains, args))
            if row is None:
                raise CommandFailed(f"no code with slug {args.slug!r}")
            return (await ctx.resources([row]))[0]

    _show(run(show), args.format)
    return EXIT_OK


def _changes(args: argparse.Namespace, parser: argparse.ArgumentParser) -> CodeChanges:
    fields = _given(args, parser)
    if args.target is not None:
        fields["target"] = args.target
    if args.enabled is not None:
        fields["enabled"] = args.enabled
    for name in args.clear or ():
        if name in fields:
            parser.error(f"--clear {name} and a new {name} together")
        fields[name] = [] if name in _LISTS else None
    if not fields:
        parser.error("nothing to change: give --target, --enable, --disable or another field")
    return decode_json(_document(fields), CodeChanges)


def cmd_codes_set(args: argparse.Namespace) -> int:
    """Change a code; flags left out stay as they are."""
    changes = _changes(args, args.parser)

    async def change() -> CodeResource:
        async with codes_context(settings_from(args)) as ctx:
            principal = await acting(ctx.storage, args, Role.EDITOR)
            key = addressed_key(ctx.index.domains, args)
            await visible_code(ctx.storage.codes, principal, key)
            if not isinstance(changes.tags, msgspec.UnsetType):
                check_code_tags(principal, changes.tags)
            row = await ctx.codes.update(key, changes, principal.author)
            return (await ctx.resources([row]))[0]

    _show(run(change), args.format)
    return EXIT_OK


def _confirmed(slug: str) -> bool:
    """Ask on the terminal; a pipe cannot answer, so deleting from one needs ``--yes``."""
    if not sys.stdin.isatty():
        raise CommandFailed(f"not deleting {slug!r}: stdin is not a terminal (pass --yes)")
    print(
        f"Delete code {slug!r}? Its slug is never reused; its scans stay. [y/N] ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_codes_delete(args: argparse.Namespace) -> int:
    """Delete a code after asking (or with ``--yes``)."""
    settings = settings_from(args)
    if not args.yes and not _confirmed(args.slug):
        raise CommandFailed(f"not deleted: {args.slug!r}")

    async def delete() -> None:
        async with codes_context(settings) as ctx:
            principal = await acting(ctx.storage, args, Role.EDITOR)
            key = addressed_key(ctx.index.domains, args)
            await visible_code(ctx.storage.codes, principal, key)
            await ctx.codes.delete(key, principal.author)

    run(delete)
    print(f"deleted code {args.slug}")
    return EXIT_OK


def _format_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["table", "json"], default="table")


def _code_flags(parser: argparse.ArgumentParser) -> None:
    """The fields create and set share; their rules are the API's (checked on decoding)."""
    parser.add_argument("--title", help="a title, at most 200 printable characters")
    parser.add_argument(
        "--tag", action="append", metavar="TAG", help="a tag (repeat for several; up to 20)"
    )
    parser.add_argument("--valid-from", metavar="TIME", help="RFC 3339: served from then")
    parser.add_argument("--valid-until", metavar="TIME", help="RFC 3339: 410 from then")
    parser.add_argument("--max-scans", type=int, metavar="N", help="410 after N scans")
    parser.add_argument(
        "--redirect-status", type=int, choices=[301, 302, 307, 308], help="default 302"
    )
    # Routing (see the README's "Routing"): the API's fields, the same checks.
    parser.add_argument(
        "--fallback-url", metavar="URL", help="where a disabled, expired or used-up code sends"
    )
    parser.add_argument(
        "--forward-query",
        action=argparse.BooleanOptionalAction,
        help="merge the scan's query string into the target",
    )
    parser.add_argument(
        "--rules",
        metavar="JSON",
        help='e.g. \'[{"when": {"os": "ios"}, "target": "https://..."}]\'',
    )
    parser.add_argument(
        "--split", metavar="JSON", help='e.g. \'[{"target": "https://...", "weight": 50}, ...]\''
    )
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read a password scans must give from standard input",
    )
    # A code that is not a link (see the README's "Codes that are not links").
    parser.add_argument(
        "--content",
        metavar="JSON",
        help='the content of a wifi, vcard, geo, sms, email, tel or text code, e.g. \'{"ssid": '
        '"Guests", "password": "..."}\'',
    )
    _format_flag(parser)
    as_flag(parser)
    db_flag(parser)


def register(sub: Subcommands) -> None:
    codes = sub.add_parser("codes", help="create, list, show, change and delete codes")
    codes_sub = codes.add_subparsers(dest="codes_command", required=True, parser_class=Parser)

    create = codes_sub.add_parser("create", help="create a code and print its short link")
    create.add_argument(
        "target",
        metavar="TARGET",
        nargs="?",
        help="the absolute http(s) URL to go to (a url code; other kinds take --content)",
    )
    create.add_argument("--slug", help="1-64 of A-Z a-z 0-9 _ - (default: 8 random characters)")
    create.add_argument(
        "--kind",
        choices=KINDS,
        help="url (the default: a link to TARGET) or a static code whose image holds --content",
    )
    create.add_argument(
        "--tracked",
        action="store_true",
        help="a vcard code as a short link: scans are counted and get the card as a .vcf",
    )
    _code_flags(create)
    domain_flag(create, "the registered host it lives on (default: the default domain)")
    create.set_defaults(func=cmd_codes_create, parser=create)

    listing = codes_sub.add_parser("list", help="list codes, newest first")
    listing.add_argument("--tag", help="only codes with this tag")
    listing.add_argument(
        "--q", metavar="TEXT", help="only codes whose slug, title or target contains TEXT"
    )
    _format_flag(listing)
    db_flag(listing)
    listing.set_defaults(func=cmd_codes_list)

    show = codes_sub.add_parser("show", help="show one code")
    show.add_argument("slug", metavar="SLUG")
    domain_flag(show, _ON_DOMAIN)
    _format_flag(show)
    db_flag(show)
    show.set_defaults(func=cmd_codes_show)

    change = codes_sub.add_parser("set", help="change a code (flags left out stay as they are)")
    change.add_argument("slug", metavar="SLUG")
    change.add_argument("--target", help="a new target URL")
    enabled = change.add_mutually_exclusive_group()
    enabled.add_argument("--enable", dest="enabled", action="store_const", const=True)
    enabled.add_argument("--disable", dest="enabled", action="store_const", const=False)
    change.add_argument(
        "--clear", action="append", choices=CLEARABLE, help="empty a field (repeatable)"
    )
    _code_flags(change)
    domain_flag(change, _ON_DOMAIN)
    change.set_defaults(func=cmd_codes_set, parser=change)

    delete = codes_sub.add_parser("delete", help="delete a code (asks first unless --yes)")
    delete.add_argument("slug", metavar="SLUG")
    delete.add_argument("--yes", action="store_true", help="do not ask")
    domain_flag(delete, _ON_DOMAIN)
    as_flag(delete)
    db_flag(delete)
    delete.set_defaults(func=cmd_codes_delete)

    register_logo(codes_sub)
