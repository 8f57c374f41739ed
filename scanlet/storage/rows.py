"""Stored rows as records: the column lists and converters every adapter shares.

Both adapters keep times as fixed-width RFC 3339 text and lists as JSON text, so a row
read from either (an ``sqlite3.Row``, an ``asyncpg.Record``, a tuple) becomes the same
record here, by column position.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from scanlet.storage.records import (
    ApiKey,
    AttemptRow,
    AuditEntry,
    CodeRow,
    DeliveryRow,
    DomainRow,
    EndpointRow,
    UserRow,
)
from scanlet.storage.timefmt import format_time, parse_time

__all__ = (
    "ATTEMPTS_KEPT",
    "ATTEMPT_COLUMNS",
    "AUDIT_COLUMNS",
    "CODE_COLUMNS",
    "DELIVERY_COLUMNS",
    "DOMAIN_COLUMNS",
    "KEY_COLUMNS",
    "USER_COLUMNS",
    "USER_INSERT_COLUMNS",
    "attempt_row",
    "audit_row",
    "code_row",
    "decode_list",
    "delivery_row",
    "domain_row",
    "encode_list",
    "format_optional",
    "key_row",
    "user_row",
    "user_values",
    "webhook_endpoint",
)

#: Attempts kept per webhook endpoint; older ones are pruned as new ones are recorded.
ATTEMPTS_KEPT = 1000

CODE_COLUMNS = (
    "slug, target, title, tags, enabled, valid_from, valid_until, max_scans, redirect_status,"
    " created_at, updated_at, deleted_at, routing, password_hash, logo, content"
)
DOMAIN_COLUMNS = "host, base_url, not_found_url, root_url, created_at, updated_at"
KEY_COLUMNS = "id, name, scope, created_at, expires_at, revoked_at, user_id, tags, domains"
USER_COLUMNS = "id, email, role, created_at, disabled_at, tags, domains"
#: The columns a new user is stored with, in ``user_values`` order.
USER_INSERT_COLUMNS = "id, email, role, password_hash, tags, created_at, domains"
DELIVERY_COLUMNS = (
    "id, endpoint_id, event_seq, event_id, event_type, body, created_at, attempts, next_attempt_at"
)
ATTEMPT_COLUMNS = (
    "id, delivery_id, event_id, event_type, attempt, attempted_at, status_code, error,"
    " duration_ms, outcome"
)

_strings = msgspec.json.Decoder(tuple[str, ...])


def encode_list(values: tuple[str, ...]) -> str:
    """A tuple of strings as the JSON text it is stored as."""
    return msgspec.json.encode(values).decode()


def decode_list(text: object) -> tuple[str, ...]:
    """The tuple of strings stored as JSON text (``encode_list``'s inverse)."""
    return _strings.decode(str(text))


def _optional_time(value: str | None) -> datetime | None:
    return parse_time(value) if value is not None else None


def format_optional(value: datetime | None) -> str | None:
    """A time as stored, or None."""
    return format_time(value) if value is not None else None


def code_row(row: Any) -> CodeRow:
    """A row of ``CODE_COLUMNS``."""
    return CodeRow(
        slug=row[0],
        target=row[1],
        title=row[2],
        tags=_strings.decode(row[3]),
        enabled=bool(row[4]),
        valid_from=_optional_time(row[5]),
        valid_until=_optional_time(row[6]),
        max_scans=row[7],
        redirect_status=row[8],
        created_at=parse_time(row[9]),
        updated_at=parse_time(row[10]),
        deleted=row[11] is not None,
        routing=row[12],
        password_hash=row[13],
        logo=row[14],
        content=row[15],
    )


def domain_row(row: Any) -> DomainRow:
    """A row of ``DOMAIN_COLUMNS``."""
    return DomainRow(
        host=row[0],
        base_url=row[1],
        not_found_url=row[2],
        root_url=row[3],
        created_at=parse_time(row[4]),
        updated_at=parse_time(row[5]),
    )


def key_row(row: Any) -> ApiKey:
    """A row of ``KEY_COLUMNS``."""
    tags = _strings.decode(row[7]) if row[7] else ()
    domains = _strings.decode(row[8]) if row[8] else ()
    return ApiKey(row[0], row[1], row[2], row[3], row[4], row[5] is not None, row[6], tags, domains)


AUDIT_COLUMNS = "seq, at, by_kind, by_id, action, subject, detail"
_detail = msgspec.json.Decoder(dict[str, Any])


def audit_row(row: Any) -> AuditEntry:
    """A row of ``AUDIT_COLUMNS``."""
    return AuditEntry(
        seq=row[0],
        at=row[1],
        by_kind=row[2],
        by_id=row[3],
        action=row[4],
        subject=row[5],
        detail=_detail.decode(row[6]),
    )


def user_row(row: Any) -> UserRow:
    """A row of ``USER_COLUMNS``."""
    tags = _strings.decode(row[5]) if row[5] else ()
    domains = _strings.decode(row[6]) if row[6] else ()
    return UserRow(row[0], row[1], row[2], row[3], row[4] is not None, tags, domains)


def user_values(row: UserRow, password_hash: str | None) -> tuple[object, ...]:
    """A new user's values for ``USER_INSERT_COLUMNS``."""
    return (
        row.id,
        row.email,
        row.role,
        password_hash,
        encode_list(row.tags),
        row.created_at,
        encode_list(row.domains),
    )


def webhook_endpoint(
    row: Any,
    after_position: int,
    owner: object = None,
    tags: object = None,
    domains: object = None,
) -> EndpointRow:
    """A row of ``id, url, event_types, secret, created_at, failures, disabled_at,
    disabled_reason``, where in the log the endpoint starts (stored per adapter), and the
    ``owner``, ``tags`` and ``domains`` (JSON arrays, or NULL) of a limited endpoint."""
    disabled = row[6]
    return EndpointRow(
        id=str(row[0]),
        url=str(row[1]),
        event_types=_strings.decode(str(row[2])),
        secret=str(row[3]),
        created_at=parse_time(str(row[4])),
        after_position=after_position,
        failures=int(row[5]),
        disabled_at=parse_time(str(disabled)) if disabled is not None else None,
        disabled_reason=None if row[7] is None else str(row[7]),
        owner=None if owner is None else str(owner),
        tags=None if tags is None else _strings.decode(str(tags)),
        domains=None if domains is None else _strings.decode(str(domains)),
    )


def delivery_row(row: Any) -> DeliveryRow:
    """A row of ``DELIVERY_COLUMNS``."""
    return DeliveryRow(
        id=int(row[0]),
        endpoint_id=str(row[1]),
        event_seq=int(row[2]),
        event_id=str(row[3]),
        event_type=str(row[4]),
        body=bytes(row[5]),
        created_at=parse_time(str(row[6])),
        attempts=int(row[7]),
        next_attempt_at=parse_time(str(row[8])),
    )


def attempt_row(row: Any) -> AttemptRow:
    """A row of ``ATTEMPT_COLUMNS``."""
    return AttemptRow(
        id=int(row[0]),
        delivery_id=int(row[1]),
        event_id=str(row[2]),
        event_type=str(row[3]),
        attempt=int(row[4]),
        attempted_at=parse_time(str(row[5])),
        status_code=None if row[6] is None else int(row[6]),
        error=None if row[7] is None else str(row[7]),
        duration_ms=float(row[8]),
        outcome=str(row[9]),
    )
