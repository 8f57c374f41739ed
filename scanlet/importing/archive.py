"""The Scanlet archive: everything needed to move a Scanlet to another machine or backend,
as JSON lines (``scanlet export archive``, ``scanlet import archive``).

Line by line: a header (``{"kind": "scanlet-archive", "version": 1, ...}``), every domain
codes live on besides the default one, every code with all its settings and its ``domain``
(deleted ones too, so their slugs stay taken), every webhook endpoint
and API key without its secret (listed on import, to be made again: a secret that is not
exported cannot be restored), then every scan and orphan scan in log order, as its event
recorded it (ids, sources, anonymised addresses and visitor hashes kept), so the read
models rebuilt from them give the same figures. Written and read one line at a time; an
import says how many bytes of the file it has read (``SourceRead``) every ``READ_STEP``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from scanlet.actors.codes.code import Code as LiveCode
from scanlet.actors.codes.keys import code_key, split_key
from scanlet.actors.codes.routing import Rule, SplitArm
from scanlet.actors.events import ScanOrphaned, ScanRecorded, decode_event
from scanlet.actors.scans.messages import ImportedScan
from scanlet.importing.items import (
    SourceCode,
    SourceDomain,
    SourceError,
    SourceFailure,
    SourceItem,
    SourceLogo,
    SourceNote,
    SourceRead,
    SourceVisit,
)
from scanlet.storage.records import (
    ApiKey,
    CodeRow,
    DomainRow,
    EndpointRow,
    StoredEvent,
    StoredLogo,
)

__all__ = (
    "FORMAT_VERSION",
    "archive_items",
    "code_line",
    "domain_line",
    "header_line",
    "scan_line",
)

FORMAT_VERSION = 1
#: Longest line read: a scan event is at most a few kilobytes (its device data 4 KiB); a
#: code with a logo of 256 KiB (base64: 342 KiB) is the longest line there is.
MAX_LINE = 512 * 1024
#: Bytes read between two reports of how far the import is: a bar moving in steps of a
#: fraction of a second, for an item per step rather than one per line.
READ_STEP = 256 * 1024


class _Line(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", omit_defaults=True):
    pass


class Header(_Line, frozen=True, kw_only=True, tag="scanlet-archive"):
    version: int
    exported_at: datetime


class Domain(_Line, frozen=True, kw_only=True, tag="domain"):
    host: str
    base_url: str
    not_found_url: str | None = None
    root_url: str | None = None


class Code(_Line, frozen=True, kw_only=True, tag="code"):
    slug: str
    #: The registered domain the code lives on; left out on the default domain (whichever
    #: host that is where the archive is imported).
    domain: str | None = None
    #: "" for a code that is not a link (its ``kind`` and ``content`` instead).
    target: str
    title: str | None = None
    tags: tuple[str, ...] = ()
    enabled: bool = True
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_scans: int | None = None
    redirect_status: int = 302
    created_at: datetime
    updated_at: datetime
    deleted: bool = False
    # Routing (#15); left out when unset, so archives of codes without any read as before.
    fallback_url: str | None = None
    rules: tuple[Rule, ...] = ()
    split: tuple[SplitArm, ...] = ()
    forward_query: bool = False
    #: The code's password as its argon2id hash (PHC string, salt and costs included): the
    #: password itself is never stored, and a code must not arrive unprotected.
    password_hash: str | None = None
    #: The code's logo (#16), checked again on import as an upload is.
    logo: Logo | None = None
    # Codes that are not links (#16); left out for url codes, so their lines read as before.
    # ("kind" names the line itself.)
    code_kind: str = "url"
    content: dict[str, Any] | None = None
    tracked: bool = False


class Logo(msgspec.Struct, frozen=True):
    """A code's logo: its media type and its bytes (base64 in JSON)."""

    media_type: str
    data: bytes


class Webhook(_Line, frozen=True, kw_only=True, tag="webhook"):
    id: str
    url: str
    events: tuple[str, ...]
    created_at: datetime
    enabled: bool = True


class Key(_Line, frozen=True, kw_only=True, tag="key"):
    id: str
    name: str
    scope: str
    created_at: str
    expires_at: str | None = None
    revoked: bool = False
    #: The key's limits, so that the note on import names the key to make again exactly.
    tags: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


class Scan(
    ImportedScan, frozen=True, kw_only=True, tag_field="kind", tag="scan", omit_defaults=True
):
    """A scan line: every field of an imported scan, by the same names."""


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Header | Domain | Code | Webhook | Key | Scan)


def _line(item: _Line | Scan) -> bytes:
    return _encoder.encode(item) + b"\n"


def header_line(now: datetime) -> bytes:
    return _line(Header(version=FORMAT_VERSION, exported_at=now))


def domain_line(row: DomainRow) -> bytes:
    return _line(
        Domain(
            host=row.host,
            base_url=row.base_url,
            not_found_url=row.not_found_url,
            root_url=row.root_url,
        )
    )


def code_line(row: CodeRow, logo: StoredLogo | None = None) -> bytes:
    code = LiveCode.from_row(row)
    domain, slug = split_key(row.slug)
    return _line(
        Code(
            slug=slug,
            domain=domain,
            target=row.target,
            title=row.title,
            tags=row.tags,
            enabled=row.enabled,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            max_scans=row.max_scans,
            redirect_status=row.redirect_status,
            created_at=row.created_at,
            updated_at=row.updated_at,
            deleted=row.deleted,
            fallback_url=code.fallback_url,
            rules=code.rules,
            split=code.split,
            forward_query=code.forward_query,
            password_hash=code.password_hash,
            logo=None if logo is None else Logo(logo.media_type, logo.data),
            code_kind=code.kind,
            content=None if code.content is None else msgspec.to_builtins(code.content),
            tracked=code.tracked and code.kind != "url",
        )
    )


def webhook_line(row: EndpointRow) -> bytes:
    """An endpoint without its secret."""
    return _line(
        Webhook(
            id=row.id,
            url=row.url,
            events=row.event_types,
            created_at=row.created_at,
            enabled=row.enabled,
        )
    )


def key_line(key: ApiKey) -> bytes:
    """A key as listed (never its secret or its hash)."""
    return _line(
        Key(
            id=key.id,
            name=key.name,
            scope=key.scope,
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked=key.revoked,
            tags=key.tags,
            domains=key.domains,
        )
    )


def scan_line(stored: StoredEvent) -> bytes | None:
    """A stored scan event as its line (None for any other event)."""
    event = decode_event(stored.payload)
    if not isinstance(event, ScanRecorded | ScanOrphaned):
        return None
    # What only a known code's scan has: device facts, and where it was sent and why.
    recorded = event if isinstance(event, ScanRecorded) else None
    return _line(
        Scan(
            id=event.id,
            slug=event.slug,
            occurred_at=event.occurred_at,
            orphan=recorded is None,
            source=event.source,
            via=event.via,
            ip=event.ip,
            visitor=event.visitor,
            user_agent=event.user_agent,
            referrer=event.referrer,
            country=event.country,
            bot=event.bot,
            device_id=recorded.device_id if recorded else None,
            data=recorded.data if recorded else None,
            target=recorded.target if recorded else None,
            rule=recorded.rule if recorded else None,
            outcome=recorded.outcome if recorded else "redirect",
            excluded=recorded.excluded if recorded else False,
        )
    )


def _origin(key: str) -> str:
    """The origin of an archive's code: ``archive:KEY``, as scan lines name it (``slug``)."""
    return f"archive:{key}"


def _item(line: Header | Domain | Code | Webhook | Key | Scan) -> SourceItem | None:
    if isinstance(line, Header):
        if line.version != FORMAT_VERSION:
            raise SourceError(f"archive format version {line.version}; this Scanlet reads 1")
        return None
    if isinstance(line, Domain):
        domain = {
            "host": line.host,
            "base_url": line.base_url,
            "not_found_url": line.not_found_url,
            "root_url": line.root_url,
        }
        return SourceDomain(
            label=f"domain {line.host}",
            fields={k: v for k, v in domain.items() if v is not None},
        )
    if isinstance(line, Code):
        key = code_key(line.domain, line.slug)
        fields: dict[str, Any] = {
            "slug": line.slug,
            "domain": line.domain,
            "target": line.target,
            "title": line.title,
            "tags": list(line.tags),
            "valid_from": line.valid_from,
            "valid_until": line.valid_until,
            "max_scans": line.max_scans,
            "redirect_status": line.redirect_status,
            "fallback_url": line.fallback_url,
            # As the API takes them, so they pass the very checks a created code's do.
            "rules": msgspec.to_builtins(line.rules),
            "split": msgspec.to_builtins(line.split),
            "forward_query": line.forward_query,
        }
        if line.code_kind != "url":
            # As the API takes them: no target, the kind's content (checked as created).
            del fields["target"]
            fields.update(kind=line.code_kind, content=line.content, tracked=line.tracked or None)
        return SourceCode(
            origin=_origin(key),
            label=f"code {key}",
            fields={k: v for k, v in fields.items() if v is not None},
            created_at=line.created_at,
            updated_at=line.updated_at,
            enabled=line.enabled,
            deleted=line.deleted,
            password_hash=line.password_hash,
            logo=None if line.logo is None else SourceLogo(line.logo.media_type, line.logo.data),
        )
    if isinstance(line, Webhook):
        return SourceNote(
            f"webhook {line.id}",
            f"not imported (its secret is not exported): create it again for {line.url}",
        )
    if isinstance(line, Key):
        return SourceNote(
            f"key {line.id}",
            f"not imported (its secret is not exported): create a {line.scope} key "
            f"named {line.name!r} again{_limits(line)}",
        )
    return SourceVisit(None if line.orphan else _origin(line.slug), line)


def _limits(line: Key) -> str:
    """The options that limit a key as its line lists them (the CLI's own spelling)."""
    options = [f" --tag {tag}" for tag in line.tags]
    options += [f" --domain {host}" for host in line.domains]
    return f", with{''.join(options)}" if options else ""


def _lines(path: Path) -> Iterator[tuple[bytes, int | None]]:
    """Each line of ``path`` with the file's size (None for a pipe or a device)."""
    try:
        with path.open("rb") as file:
            info = os.fstat(file.fileno())
            size = info.st_size if stat.S_ISREG(info.st_mode) else None
            while line := file.readline(MAX_LINE + 1):
                yield line, size
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None


async def archive_items(path: Path) -> AsyncIterator[SourceItem]:
    """The items of the archive at ``path``, line by line."""
    number = 0
    headed = False
    size: int | None = None
    # Bytes of the lines handed on, and as far as was last said.
    done = said = 0
    for raw, size in _lines(path):
        if headed and done - said >= READ_STEP:
            said = done
            yield SourceRead(done, size)
        done += len(raw)
        number += 1
        if len(raw) > MAX_LINE:
            raise SourceError(f"{path.name} line {number} is longer than {MAX_LINE} bytes")
        if not raw.strip():
            continue
        try:
            line = _decoder.decode(raw)
        except msgspec.DecodeError as exc:
            if not headed:
                raise SourceError(f"{path.name} is not a Scanlet archive ({exc})") from None
            yield SourceFailure(f"{path.name} line {number}", str(exc))
            continue
        if not headed and not isinstance(line, Header):
            raise SourceError(f"{path.name} is not a Scanlet archive (no header line)")
        headed = True
        item = _item(line)
        if item is not None:
            yield item
    if not headed:
        raise SourceError(f"{path.name} is empty")
    yield SourceRead(done, size)
