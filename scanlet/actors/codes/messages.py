"""Commands the codes actor accepts: the only way to change the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

__all__ = ("CodeChanges", "CreateCode", "DeleteCode", "UpdateCode")

RedirectStatus = Literal[301, 302, 307, 308]


class CreateCode(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Create a code; without ``slug`` one is generated."""

    target: str
    slug: str | None = None
    title: str | None = None
    tags: list[str] = []
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_scans: int | None = None
    redirect_status: RedirectStatus = 302


class CodeChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A partial update: fields left out stay as they are; ``null`` clears optional ones."""

    target: str | msgspec.UnsetType = msgspec.UNSET
    title: str | msgspec.UnsetType | None = msgspec.UNSET
    tags: list[str] | msgspec.UnsetType = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET
    valid_from: datetime | msgspec.UnsetType | None = msgspec.UNSET
    valid_until: datetime | msgspec.UnsetType | None = msgspec.UNSET
    max_scans: int | msgspec.UnsetType | None = msgspec.UNSET
    redirect_status: RedirectStatus | msgspec.UnsetType = msgspec.UNSET


class UpdateCode(msgspec.Struct, frozen=True):
    """Apply ``changes`` to the code ``slug``."""

    slug: str
    changes: CodeChanges


class DeleteCode(msgspec.Struct, frozen=True):
    """Delete the code ``slug`` (its slug is never reused)."""

    slug: str
