"""A code's history from its events: when, who, and the old and new value of each field.

``code.updated`` events carry the code's whole state afterwards and the names of the fields
that changed; a field's old value is its value in the event before. So a page of N entries
needs N + 1 events, newest first: the extra one is the state before the oldest entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from scanlet.actors.events import By, CodeCreated, CodeDeleted, CodeState, CodeUpdated, decode_event
from scanlet.storage.records import StoredEvent

__all__ = ("Change", "HistoryEntry", "history_entries")


class Change(msgspec.Struct, frozen=True):
    """One field's value before and after (``old`` is null for a new code's fields)."""

    field: str
    old: Any
    new: Any


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One change to a code."""

    seq: int
    at: str
    type: str
    by: By | None
    changes: list[Change]


_DEFAULTS = CodeState(slug="", target="")
#: Changed fields whose value the state shows under another name: a password is write-only,
#: so its change is shown as whether the code had one before and has one after.
_SHOWN_AS = {"password": "has_password"}


def _value(state: CodeState, field: str) -> Any:
    return msgspec.to_builtins(getattr(state, field))


def _created(state: CodeState) -> list[Change]:
    # Every field the creator set: those that differ from a code's defaults, and the target.
    fields = [name for name in CodeState.__struct_fields__ if name != "slug"]
    return [
        Change(name, None, _value(state, name))
        for name in fields
        if name == "target" or getattr(state, name) != getattr(_DEFAULTS, name)
    ]


def history_entries(events: Sequence[StoredEvent], limit: int) -> list[HistoryEntry]:
    """Up to ``limit`` entries from ``events`` (a code's, newest first; the one past
    ``limit``, if any, only gives the old values of the last entry)."""
    decoded = [decode_event(event.payload) for event in events]
    entries: list[HistoryEntry] = []
    for index, (stored, event) in enumerate(zip(events[:limit], decoded, strict=False)):
        before = decoded[index + 1] if index + 1 < len(decoded) else None
        previous = before.code if isinstance(before, CodeCreated | CodeUpdated) else None
        if isinstance(event, CodeCreated):
            changes = _created(event.code)
        elif isinstance(event, CodeUpdated):
            shown = [_SHOWN_AS.get(name, name) for name in event.changed]
            changes = [
                Change(
                    name,
                    None if previous is None else _value(previous, name),
                    _value(event.code, name),
                )
                for name in shown
            ]
        elif isinstance(event, CodeDeleted):
            changes = []
        else:
            continue
        entries.append(
            HistoryEntry(
                seq=stored.seq,
                at=stored.occurred_at,
                type=stored.type,
                by=event.by,
                changes=changes,
            )
        )
    return entries
