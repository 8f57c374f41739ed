"""Commands the codes actor accepts: the only way to change the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from scanlet.actors.codes.domains import HOST_NAME_PATTERN, MAX_HOST_LENGTH
from scanlet.actors.codes.kind_schema import CONTENT_BODY_SCHEMA, KIND_VARIANTS
from scanlet.actors.codes.kinds import Kind
from scanlet.actors.codes.passwords import MAX_PASSWORD_LENGTH
from scanlet.actors.codes.patterns import (
    RESERVED_SLUG_PATTERN,
    TAG_PATTERN,
    TARGET_PATTERN,
    TITLE_PATTERN,
)
from scanlet.actors.codes.routing import Rules, Split, Url
from scanlet.actors.codes.validation import (
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TARGET_LENGTH,
    MAX_TITLE_LENGTH,
    SLUG_PATTERN,
)
from scanlet.actors.events import SYSTEM_BY, By, RedirectStatus
from scanlet.runtime import Asks
from scanlet.storage.records import CodeRow, StoredLogo
from scanlet.timerange import ClientTime

__all__ = (
    "MAX_SCANS_LIMIT",
    "CodeChanges",
    "CreateCode",
    "CreateCodeBody",
    "DeleteCode",
    "ImportCode",
    "NewCode",
    "RefreshCodes",
    "SetLogo",
    "UpdateCode",
)

# Every rule a field obeys is declared on its type, so the OpenAPI document (generated from
# these types) says what the server accepts. msgspec checks lengths, counts and ranges while
# decoding; the rules that need code (URL syntax, reserved names, printable text) are only
# described here (extra_json_schema) and enforced by the codes actor (``rules.check_code``),
# whose refusals say what is wrong in words.
#: The most scans a code may be limited to: far beyond any real campaign, and well inside
#: the 64-bit integers the database stores.
MAX_SCANS_LIMIT = 10**12
ScanLimit = Annotated[int, msgspec.Meta(ge=1, le=MAX_SCANS_LIMIT)]
Target = Annotated[
    str,
    msgspec.Meta(
        max_length=MAX_TARGET_LENGTH,
        extra_json_schema={"pattern": TARGET_PATTERN},
        description="An absolute http(s) URL: no user name or password, whitespace, control "
        "characters or backslashes. Host names in other scripts and bracketed IPv6 addresses "
        "are accepted too; a URL on this server's own origin is not (422).",
    ),
]
Slug = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"pattern": SLUG_PATTERN, "not": {"pattern": RESERVED_SLUG_PATTERN}},
        description="1 to 64 letters, digits, '-' or '_', not the name of a top-level route.",
    ),
]
Title = Annotated[
    str, msgspec.Meta(max_length=MAX_TITLE_LENGTH, extra_json_schema={"pattern": TITLE_PATTERN})
]
Tag = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_TAG_LENGTH,
        extra_json_schema={"pattern": TAG_PATTERN},
        description="Printable text, trimmed of surrounding spaces.",
    ),
]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=MAX_TAGS)]
# Examples that make a window (and give generated requests one in the right order).
ValidFrom = Annotated[ClientTime, msgspec.Meta(examples=["2026-06-01T00:00:00Z"])]
ValidUntil = Annotated[ClientTime, msgspec.Meta(examples=["2026-09-01T00:00:00Z"])]
FallbackUrl = Annotated[
    Url,
    msgspec.Meta(
        description="Where a disabled, expired, not yet valid or used-up code sends a scan "
        "(302) instead of answering 410.",
        examples=["https://example.com/campaign-over"],
    ),
]
Password = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_PASSWORD_LENGTH,
        description="Write-only: scans get a form asking for it. Stored as an argon2id hash; "
        "the code shows has_password.",
        examples=["open sesame"],
    ),
]
CodeKind = Annotated[
    Kind,
    msgspec.Meta(
        description="url: a short link that redirects to target (the default). wifi, vcard, "
        "geo, sms, email, tel, text: a static code whose image holds content itself (no "
        "target, no scans counted), except a vcard with tracked: true."
    ),
]
ContentBody = Annotated[
    dict[str, Any],
    msgspec.Meta(
        description="The content of a code that is not a link, with the fields of its kind "
        "(see the README, 'Codes that are not links').",
        extra_json_schema=CONTENT_BODY_SCHEMA,
    ),
]
Tracked = Annotated[
    bool,
    msgspec.Meta(
        description="vcard only: a short link whose scans are counted and answered with the "
        "card as a .vcf file. A url code is always tracked, the other kinds never."
    ),
]
CodeDomain = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_HOST_LENGTH + 1,
        extra_json_schema={"pattern": HOST_NAME_PATTERN},
        description="The host the code lives on: a registered domain (GET /api/v1/domains) "
        "or the default one (the host of the server's base URL, also when left out). A slug "
        "is unique per domain.",
    ),
]
ForwardQuery = Annotated[
    bool,
    msgspec.Meta(
        description="Merge the scan's query string into the chosen target (the scan's "
        "parameters replace the target's of the same name)."
    ),
]


class CreateCode(
    msgspec.Struct, Asks[CodeRow], frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """Create a code; without ``slug`` one is generated. A ``url`` code needs ``target``;
    every other kind needs ``content`` instead."""

    target: Target | None = None
    kind: CodeKind = "url"
    content: ContentBody | None = None
    tracked: Tracked | None = None
    slug: Slug | None = None
    title: Title | None = None
    tags: Tags = []
    valid_from: ValidFrom | None = None
    valid_until: ValidUntil | None = None
    max_scans: ScanLimit | None = None
    redirect_status: RedirectStatus = 302
    fallback_url: FallbackUrl | None = None
    rules: Rules = ()
    split: Split = ()
    forward_query: ForwardQuery = False
    password: Password | None = None
    domain: CodeDomain | None = None


#: The create body as the API documents it: which fields go with which kind (one variant
#: per kind), so generated requests that follow the schema are ones the server accepts.
CreateCodeBody = Annotated[CreateCode, msgspec.Meta(extra_json_schema=KIND_VARIANTS)]


class ImportCode(msgspec.Struct, Asks[CodeRow], frozen=True, kw_only=True):
    """Create a code an import brought over: ``code`` passes every rule a created code does;
    ``origin`` names the source item (``shlink:host/domain/code``), stored with the code so a
    second run knows it; ``created_at`` is when the source made it (now if unknown)."""

    code: CreateCode
    origin: str
    created_at: datetime | None = None
    #: An archive's code keeps when it last changed, and may come disabled.
    updated_at: datetime | None = None
    enabled: bool = True
    #: An archive's code keeps its password as the argon2id hash it was stored as (``code``
    #: then has no ``password``).
    password_hash: str | None = None
    #: An archive's code keeps its logo (checked, or sanitised, by the importer's edge).
    logo: StoredLogo | None = None
    #: Check every rule and answer the code that would be made, storing nothing.
    dry_run: bool = False


class CodeChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A partial update: fields left out stay as they are; ``null`` clears optional ones.
    A code's ``kind`` and ``tracked`` never change (given, they must be what they are)."""

    kind: CodeKind | msgspec.UnsetType = msgspec.UNSET
    content: ContentBody | msgspec.UnsetType = msgspec.UNSET
    tracked: Tracked | msgspec.UnsetType = msgspec.UNSET
    target: Target | msgspec.UnsetType = msgspec.UNSET
    title: Title | msgspec.UnsetType | None = msgspec.UNSET
    tags: Tags | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET
    valid_from: ValidFrom | msgspec.UnsetType | None = msgspec.UNSET
    valid_until: ValidUntil | msgspec.UnsetType | None = msgspec.UNSET
    max_scans: ScanLimit | msgspec.UnsetType | None = msgspec.UNSET
    redirect_status: RedirectStatus | msgspec.UnsetType = msgspec.UNSET
    fallback_url: FallbackUrl | msgspec.UnsetType | None = msgspec.UNSET
    rules: Rules | msgspec.UnsetType = msgspec.UNSET
    split: Split | msgspec.UnsetType = msgspec.UNSET
    forward_query: ForwardQuery | msgspec.UnsetType = msgspec.UNSET
    password: Password | msgspec.UnsetType | None = msgspec.UNSET


class NewCode(msgspec.Struct, Asks[CodeRow], frozen=True):
    """Create a code as ``command`` says, on behalf of ``by`` (a ``CreateCode`` alone is the
    system's: the request body never says who it is from, the credentials do)."""

    command: CreateCode
    by: By


class UpdateCode(msgspec.Struct, Asks[CodeRow], frozen=True):
    """Apply ``changes`` to the code ``slug``, on behalf of ``by``."""

    slug: str
    changes: CodeChanges
    by: By = SYSTEM_BY


class SetLogo(msgspec.Struct, Asks[CodeRow], frozen=True):
    """Give the code ``slug`` ``logo`` (already checked or sanitised by the edge; None
    removes its logo), on behalf of ``by``. The event records the logo's hash, not its
    bytes."""

    slug: str
    logo: StoredLogo | None
    by: By = SYSTEM_BY


class DeleteCode(msgspec.Struct, Asks[None], frozen=True):
    """Delete the code ``slug`` (its slug is never reused), on behalf of ``by``."""

    slug: str
    by: By = SYSTEM_BY


class RefreshCodes(msgspec.Struct, frozen=True):
    """Another instance changed these codes: load them again from storage (none named:
    load every code again, some changes may have gone unheard)."""

    slugs: tuple[str, ...] = ()
