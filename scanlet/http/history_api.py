"""``GET /api/v1/codes/{slug}/history``: who changed a code, when, and from what to what.

The entries come from the code's events (``actors.codes.history``); here each author gets a
readable name (a user's email, a key's name) for the API and the dashboard's History section
alike.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.access.keys import Scope
from scanlet.actors.codes.history import Change, history_entries
from scanlet.actors.events import By
from scanlet.http.endpoint import Endpoint, Param, Reply
from scanlet.http.params import MAX_CURSOR_LENGTH, page_params, query_int, query_str
from scanlet.http.responses import json_response
from scanlet.http.services import Services, services
from scanlet.http.stats_api import known_slug
from scanlet.storage.cursors import decode_cursor, encode_cursor, seq_part

__all__ = ("Author", "History", "HistoryItem", "code_history", "history_endpoints")


class Author(msgspec.Struct, frozen=True):
    """Who made a change: ``kind`` user, key or system, its id, and a name to show (a
    user's email or a key's name; null once they are deleted)."""

    kind: str
    id: str
    name: str | None


class HistoryItem(msgspec.Struct, frozen=True, kw_only=True):
    """One change: when, who, what kind, and each field's old and new value."""

    seq: int
    at: str
    type: str
    by: Author | None
    changes: list[Change]


class History(msgspec.Struct, frozen=True):
    """A page of a code's changes, newest first."""

    items: list[HistoryItem]
    next_cursor: str | None


async def _names(svc: Services, authors: set[By]) -> dict[By, str | None]:
    names: dict[By, str | None] = {}
    if any(a.kind == "key" for a in authors):
        keys = {key.id: key.name for key in await svc.keys.list()}
        names.update({a: keys.get(a.id) for a in authors if a.kind == "key"})
    if any(a.kind == "user" for a in authors):
        users = {user.id: user.email for user in await svc.users.list()}
        names.update({a: users.get(a.id) for a in authors if a.kind == "user"})
    names.update({a: "system" for a in authors if a.kind == "system"})
    return names


async def code_history(
    svc: Services, slug: str, *, limit: int, cursor: str | None = None
) -> History:
    """A page of the changes to ``slug``, newest first, with the authors' names."""
    before = None
    if cursor is not None:
        (raw,) = decode_cursor(cursor, 1)
        before = seq_part(raw)
    events = await svc.storage.events.code_history(slug, limit=limit + 1, before=before)
    entries = history_entries(events, limit)
    names = await _names(svc, {entry.by for entry in entries if entry.by is not None})
    items = [
        HistoryItem(
            seq=entry.seq,
            at=entry.at,
            type=entry.type,
            by=None if entry.by is None else Author(entry.by.kind, entry.by.id, names[entry.by]),
            changes=entry.changes,
        )
        for entry in entries
    ]
    more = len(events) > limit
    return History(items, encode_cursor(items[-1].seq) if more and items else None)


async def get_history(request: Request) -> Response:
    """The changes to a code, newest first."""
    svc = services(request)
    slug = known_slug(svc, request.path_params["slug"])
    limit = query_int(request, "limit", default=50, low=1, high=1000)
    cursor = query_str(request, "cursor", max_length=MAX_CURSOR_LENGTH)
    return json_response(await code_history(svc, slug, limit=limit, cursor=cursor))


def history_endpoints(slug_param: Param) -> list[Endpoint]:
    """The history route."""
    return [
        Endpoint(
            "GET",
            "/api/v1/codes/{slug}/history",
            get_history,
            "A code's history",
            "codes",
            scope=Scope.READ,
            params=[slug_param, *page_params()],
            extra_problems=[404],
            replies=[Reply(200, "A page of changes, newest first.", History)],
        )
    ]
