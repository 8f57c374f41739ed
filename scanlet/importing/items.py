"""What every source yields: codes, visits and the items it could not read, neutrally."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeAlias

import msgspec

from scanlet.actors.scans.messages import ImportedScan

__all__ = (
    "SourceCode",
    "SourceDomain",
    "SourceError",
    "SourceFailure",
    "SourceItem",
    "SourceLogo",
    "SourceNote",
    "SourceRead",
    "SourceTotal",
    "SourceVisit",
    "visit_id",
)

#: The namespace of the ids derived for imported visits (a fixed random UUID): the same
#: visit of the same source always gets the same id, so a second import is a duplicate.
_VISIT_NAMESPACE = uuid.UUID("6f1d9a57-3c0e-4f7b-9d55-2b8e1c0a7e43")


class SourceError(Exception):
    """Raised by a source that cannot go on (unreachable, refused the key, a file without
    the columns its format needs): the import stops there, and what was imported stays."""


def visit_id(key: str) -> str:
    """The event id of the visit that ``key`` names in its source (a UUIDv5)."""
    return str(uuid.uuid5(_VISIT_NAMESPACE, key))


class SourceLogo(msgspec.Struct, frozen=True):
    """A code's logo as a source has it: not checked yet (the sink checks it as the API
    checks an upload)."""

    media_type: str
    data: bytes


class SourceCode(msgspec.Struct, frozen=True, kw_only=True):
    """A code as a source has it. ``origin`` names it in its source for good
    (``shlink:host/domain/code``); ``fields`` are those of ``POST /api/v1/codes``, checked
    by the same rules (``slug`` the one it had, absent to generate one)."""

    origin: str
    label: str
    fields: dict[str, Any]
    created_at: datetime | None = None
    updated_at: datetime | None = None
    enabled: bool = True
    deleted: bool = False
    #: The visits a source counted but cannot list (Kutt keeps totals only).
    total_visits: int | None = None
    #: A password kept as its argon2id hash (an archive's protected code); the plain
    #: ``password`` field, as the API takes it, would be hashed anew.
    password_hash: str | None = None
    #: An archive's code's logo.
    logo: SourceLogo | None = None


class SourceDomain(msgspec.Struct, frozen=True, kw_only=True):
    """A domain codes live on (an archive's): ``fields`` are those of
    ``POST /api/v1/domains``, checked by the same rules. Registered before its codes."""

    label: str
    fields: dict[str, Any]


class SourceVisit(msgspec.Struct, frozen=True):
    """One visit: of the code ``origin`` names (the engine fills in its slug), or, with no
    origin, an orphan visit of ``scan.slug``. ``scan.id`` is derived from the source and the
    visit (``visit_id``) or kept from an archive."""

    origin: str | None
    scan: ImportedScan


class SourceFailure(msgspec.Struct, frozen=True):
    """An item the source could not read (a CSV row, a malformed record): reported, and
    the import goes on."""

    label: str
    reason: str


class SourceNote(msgspec.Struct, frozen=True):
    """Something the source had that is not imported (an archive's webhooks and keys, whose
    secrets it does not hold): listed in the report, not a failure."""

    label: str
    text: str


class SourceTotal(msgspec.Struct, frozen=True):
    """How many codes the source holds, once it knows: the progress bar's ETA."""

    codes: int


class SourceRead(msgspec.Struct, frozen=True):
    """How far a source that reads a file is: ``done`` bytes of its ``size`` (None when
    the file has no size, a pipe): the progress bar's position and ETA where a count of
    codes would stop at the first visit (an archive's codes all come before its visits)."""

    done: int
    size: int | None


SourceItem: TypeAlias = (
    SourceCode | SourceDomain | SourceVisit | SourceFailure | SourceNote | SourceTotal | SourceRead
)
