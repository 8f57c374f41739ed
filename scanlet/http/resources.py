"""Response bodies of the codes API, and how a stored code becomes one."""

from __future__ import annotations

from datetime import datetime

import msgspec

from scanlet.storage.codes import CodeRow

__all__ = ("CodeList", "CodeResource", "code_resource")


class CodeResource(msgspec.Struct, frozen=True):
    """A dynamic QR code as the API shows it."""

    slug: str
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
    scans: int


class CodeList(msgspec.Struct, frozen=True):
    """A page of codes; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[CodeResource]
    next_cursor: str | None


def code_resource(row: CodeRow, base_url: str, scans: int) -> CodeResource:
    """The API view of a stored code; ``qr_payload`` is the text the QR image encodes."""
    return CodeResource(
        slug=row.slug,
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
        short_url=f"{base_url}/{row.slug}",
        qr_payload=f"{base_url}/q/{row.slug}",
        scans=scans,
    )
