"""Response bodies of the codes API, and how a stored code becomes one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from scanlet.actors.codes.code import Code
from scanlet.actors.codes.domain_index import DomainIndex
from scanlet.actors.codes.keys import slug_of_key
from scanlet.actors.codes.lookalike import target_is_lookalike
from scanlet.actors.codes.routing import Rule, SplitArm
from scanlet.adapters.qr_images import qr_facts
from scanlet.storage.records import CodeRow

__all__ = ("CodeList", "CodeResource", "code_resource", "qr_payload", "short_url")


class CodeResource(msgspec.Struct, frozen=True):
    """A dynamic QR code as the API shows it."""

    slug: str
    domain: Annotated[
        str,
        msgspec.Meta(
            description="The host the code lives on (the default domain is the host of the "
            "server's base URL). Address the code as /api/v1/codes/{slug}?domain=HOST."
        ),
    ]
    target: str
    title: str | None
    tags: list[str]
    enabled: bool
    created_at: datetime
    updated_at: datetime
    valid_from: datetime | None
    valid_until: datetime | None
    max_scans: int | None
    redirect_status: int
    short_url: str
    qr_payload: str
    qr_version: Annotated[
        int,
        msgspec.Meta(
            description="QR version (1-40) of qr_payload at error correction M: the code has "
            "17 + 4 x version modules a side. Fewer modules print smaller (see the README)."
        ),
    ]
    qr_modules: int
    scans: int
    target_lookalike: Annotated[
        bool,
        msgspec.Meta(
            description="The target's host mixes scripts or imitates Latin letters in "
            "another script (e.g. apple.com with a Cyrillic a): legal, but show it in its "
            "ASCII (punycode) form, as browsers and the dashboard do."
        ),
    ]
    fallback_url: str | None
    rules: list[Rule]
    split: list[SplitArm]
    forward_query: bool
    has_password: Annotated[
        bool, msgspec.Meta(description="Scans must give a password (set with password).")
    ]


class CodeList(msgspec.Struct, frozen=True):
    """A page of codes; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[CodeResource]
    next_cursor: str | None


def short_url(domains: DomainIndex, key: str) -> str:
    """The link people follow (and type) to the code ``key``, on its domain's base URL."""
    return f"{domains.base_url_of(key)}/{slug_of_key(key)}"


def qr_payload(domains: DomainIndex, key: str) -> str:
    """The text a code's QR image encodes: its own URL, never its target (so a printed code
    stays valid when the target changes), on its own path (so scans are told from clicks),
    on its domain's base URL."""
    return f"{domains.base_url_of(key)}/q/{slug_of_key(key)}"


def code_resource(row: CodeRow, domains: DomainIndex, scans: int) -> CodeResource:
    """The API view of a stored code (``row.slug`` is its key); ``qr_payload`` is the text
    the QR image encodes."""
    code = Code.from_row(row)
    payload = qr_payload(domains, row.slug)
    version, modules = qr_facts(payload)
    return CodeResource(
        slug=slug_of_key(row.slug),
        domain=domains.host_of(row.slug),
        target=row.target,
        title=row.title,
        tags=list(row.tags),
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        max_scans=row.max_scans,
        redirect_status=row.redirect_status,
        short_url=short_url(domains, row.slug),
        qr_payload=payload,
        qr_version=version,
        qr_modules=modules,
        scans=scans,
        target_lookalike=target_is_lookalike(row.target),
        fallback_url=code.fallback_url,
        rules=list(code.rules),
        split=list(code.split),
        forward_query=code.forward_query,
        has_password=code.password_hash is not None,
    )
