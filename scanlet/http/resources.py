"""Response bodies of the codes API, and how a stored code becomes one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec

from scanlet.actors.codes.code import Code
from scanlet.actors.codes.domain_index import DomainIndex
from scanlet.actors.codes.keys import slug_of_key
from scanlet.actors.codes.kinds import Kind
from scanlet.actors.codes.lookalike import target_is_lookalike
from scanlet.actors.codes.payloads import content_payload
from scanlet.actors.codes.routing import Rule, SplitArm
from scanlet.adapters.qr_images import compact_payload, qr_facts
from scanlet.http.services import Services
from scanlet.storage.records import CodeRow

__all__ = (
    "CodeList",
    "CodeResource",
    "QrLinks",
    "code_resource",
    "qr_links",
    "qr_payload",
    "short_url",
)


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
    kind: Kind
    target: Annotated[
        str | None, msgspec.Meta(description="Where a url code leads; null for other kinds.")
    ]
    content: Annotated[
        dict[str, Any] | None,
        msgspec.Meta(description="What a code that is not a link holds; null for a url code."),
    ]
    tracked: Annotated[
        bool,
        msgspec.Meta(
            description="Scans reach the server and are counted (a url code, a tracked "
            "vcard); false for a static code, whose image holds its content."
        ),
    ]
    title: str | None
    tags: list[str]
    enabled: bool
    created_at: datetime
    updated_at: datetime
    valid_from: datetime | None
    valid_until: datetime | None
    max_scans: int | None
    redirect_status: int
    short_url: Annotated[
        str | None, msgspec.Meta(description="The link people follow; null for a static code.")
    ]
    qr_payload: str
    qr_version: Annotated[
        int,
        msgspec.Meta(
            description="QR version (1-40) of qr_payload at error correction M: the code has "
            "17 + 4 x version modules a side. Fewer modules print smaller (see the README)."
        ),
    ]
    qr_modules: int
    qr_compact: Annotated[
        bool,
        msgspec.Meta(
            description="qr_payload is the compact alphanumeric link (SCANLET_QR_COMPACT): "
            "HTTPS://HOST/Q/SLUG."
        ),
    ]
    qr_versions_saved: Annotated[
        int | None,
        msgspec.Meta(
            description="How many QR versions the compact link is smaller than the usual "
            "one (whether or not SCANLET_QR_COMPACT is on); null when the code has none (a "
            "static code, a slug with '_' or equal to another ignoring case, a base URL "
            "with a path)."
        ),
    ]
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
    has_logo: Annotated[
        bool,
        msgspec.Meta(
            description="The code has a logo (PUT /api/v1/codes/{slug}/logo); logo=true on "
            "its QR image draws it."
        ),
    ] = False


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


def _nobody(key: str) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class QrLinks:
    """What a code's QR image encodes: a static code's content, else its link on its
    domain's base URL (``domains``), written ``{base_url}/q/{slug}`` or, with ``compact``
    (SCANLET_QR_COMPACT), in QR alphanumeric characters (``HTTPS://HOST/Q/SLUG``) when the
    code's key is the only one of its domain ``unique`` says has its upper-case form
    (``CodeIndex.unique_ignoring_case``) and can be written so. ``code.slug`` is the key."""

    domains: DomainIndex
    compact: bool = False
    unique: Callable[[str], bool] = _nobody

    def base_url_of(self, code: Code) -> str:
        """The base URL of the code's domain."""
        return self.domains.base_url_of(code.slug)

    def compact_link(self, code: Code) -> str | None:
        """The compact link this code may have, whether or not compact links are on."""
        if not code.tracked or not self.unique(code.slug):
            return None
        found = compact_payload(self.base_url_of(code), slug_of_key(code.slug))
        return None if found is None else found.payload

    def payload(self, code: Code) -> str:
        """The exact text of the code's QR image."""
        if not code.tracked and code.content is not None:
            return content_payload(code.content)
        if self.compact:
            compact = self.compact_link(code)
            if compact is not None:
                return compact
        return qr_payload(self.domains, code.slug)

    def short_url(self, code: Code) -> str | None:
        """The code's short link on its domain; None for a static code (no scan reaches it)."""
        return short_url(self.domains, code.slug) if code.tracked else None

    def versions_saved(self, code: Code) -> int | None:
        """How many versions the compact link saves, or None when there is none."""
        if not code.tracked or not self.unique(code.slug):
            return None
        found = compact_payload(self.base_url_of(code), slug_of_key(code.slug))
        return None if found is None else found.versions_saved


def qr_links(svc: Services) -> QrLinks:
    """How this server writes codes' QR payloads (its domains' base URLs,
    SCANLET_QR_COMPACT)."""
    return QrLinks(svc.index.domains, svc.settings.qr_compact, svc.index.unique_ignoring_case)


def code_resource(row: CodeRow, links: QrLinks, scans: int) -> CodeResource:
    """The API view of a stored code (``row.slug`` is its key); ``qr_payload`` is the text
    the QR image encodes."""
    code = Code.from_row(row)
    payload = links.payload(code)
    version, modules = qr_facts(payload)
    return CodeResource(
        slug=slug_of_key(row.slug),
        domain=links.domains.host_of(row.slug),
        kind=code.kind,
        target=row.target if code.kind == "url" else None,
        content=None if code.content is None else msgspec.to_builtins(code.content),
        tracked=code.tracked,
        title=row.title,
        tags=list(row.tags),
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        max_scans=row.max_scans,
        redirect_status=row.redirect_status,
        short_url=links.short_url(code),
        qr_payload=payload,
        qr_version=version,
        qr_modules=modules,
        qr_compact=payload != qr_payload(links.domains, row.slug) and code.tracked,
        qr_versions_saved=links.versions_saved(code),
        scans=scans,
        target_lookalike=code.kind == "url" and target_is_lookalike(row.target),
        fallback_url=code.fallback_url,
        rules=list(code.rules),
        split=list(code.split),
        forward_query=code.forward_query,
        has_password=code.password_hash is not None,
        has_logo=row.logo is not None,
    )
