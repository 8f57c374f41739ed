"""Administrative actions as audit entries: who did what to which user, key or webhook.

Changes to codes are recorded by their events (``by`` in each); these are the rest, kept in
their own table so that neither the event stream (which every read key may follow) nor a
webhook ever carries a user's email. Details never hold a password or a secret.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scanlet.actors.events import By
from scanlet.storage.records import AuditEntry
from scanlet.storage.timefmt import format_time

__all__ = ("audit_entry",)


def audit_entry(by: By, now: datetime, action: str, subject: str, **detail: Any) -> AuditEntry:
    """``by`` did ``action`` (``user.created``, ``key.revoked``, ...) to ``subject`` at
    ``now``."""
    return AuditEntry(
        at=format_time(now),
        by_kind=by.kind,
        by_id=by.id,
        action=action,
        subject=subject,
        detail=detail,
    )
