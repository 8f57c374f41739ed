"""Commands the codes actor accepts: the only way to change the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from scanlet.runtime import Asks
from scanlet.storage.codes import CodeRow

__all__ = ("MAX_SCANS_LIMIT", "CodeChanges", "CreateCode", "DeleteCode", "UpdateCode")

RedirectStatus = Literal[301, 302, 307, 308]
#: The most scans a code may be limited to: far beyond any real campaign, and well inside
#: the 64-bit integers the database stores.
MAX_SCANS_LIMIT = 10**12
ScanLimit = Annotated[int, msgspec.Meta(ge=1, le=MAX_SCANS_LIMIT)]


class CreateCode(
    msgspec.Struct, Asks[CodeRow], frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """Create a code; without ``slug`` one is generated."""

    target: str
    slug: str | None = None
    title: str | None = None
    tags: list[str] = []
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_scans: ScanLimit | None = None
    redirect_status: RedirectStatus = 302


class CodeChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A partial update: fields left out stay as they are; ``null`` clears optional ones."""

    target: str | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType | None = msgspec.UNSET
    tags: list[str] | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET
    valid_from: datetime | msgspec.UnsetType | None = msgspec.UNSET
    valid_until: datetime | msgspec.UnsetType | None = msgspec.UNSET
    max_scans: ScanLimit | msgspec.UnsetType | None = msgspec.UNSET
    redirect_status: RedirectStatus | msgspec.UnsetType = msgspec.UNSET


class UpdateCode(msgspec.Struct, Asks[CodeRow], frozen=True):
    """Apply ``changes`` to the code ``slug``."""

    slug: str
    changes: CodeChanges


class DeleteCode(msgspec.Struct, Asks[None], frozen=True):
    """Delete the code ``slug`` (its slug is never reused)."""

    slug: str
