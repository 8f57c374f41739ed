"""``Code``: one code as the codes context reasons about it (the domain type).

Storage keeps ``CodeRow`` (plain columns); the context turns rows into codes when it loads
them and codes into rows when it stores them, so its rules are checked on a type that says
what is allowed (a redirect status is one of four) rather than on what a column can hold.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast, get_args

import msgspec
import structlog

from scanlet.actors.codes.kinds import CONTENT_TYPES, Content, Kind, TextContent
from scanlet.actors.codes.routing import Rule, SplitArm
from scanlet.actors.events import CodeState, RedirectStatus
from scanlet.storage.records import CodeRow

__all__ = ("REDIRECT_STATUSES", "Code")

REDIRECT_STATUSES: tuple[int, ...] = get_args(RedirectStatus)


class _Routing(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The routing fields as the catalogue stores them (one JSON column)."""

    fallback_url: str | None = None
    rules: tuple[Rule, ...] = ()
    split: tuple[SplitArm, ...] = ()
    forward_query: bool = False


_NO_ROUTING = _Routing()
_routing_json = msgspec.json.Decoder(_Routing)
log = structlog.get_logger("scanlet.codes")


class _Kind(msgspec.Struct, frozen=True, kw_only=True):
    """A code that is not a link as the catalogue stores it (one JSON column; NULL: url)."""

    kind: str
    content: msgspec.Raw
    tracked: bool = False


_kind_json = msgspec.json.Decoder(_Kind)
#: What a code whose stored content does not decode (a hand-edited database) encodes.
_UNREADABLE = TextContent(text="(this code's content could not be read)")


def _kind_of(row: CodeRow) -> tuple[Kind, Content | None, bool]:
    """A row's kind, content and whether it is tracked; content that does not decode
    serves as a text saying so, loudly, rather than keep every code from loading."""
    if not row.content:
        return "url", None, True
    try:
        stored = _kind_json.decode(row.content)
        content = msgspec.json.decode(stored.content, type=CONTENT_TYPES[stored.kind])
    except (msgspec.MsgspecError, KeyError) as exc:
        log.error("code content unreadable, served as text", slug=row.slug, error=str(exc))
        return "text", _UNREADABLE, False
    return cast(Kind, stored.kind), content, stored.tracked


def _routing_of(row: CodeRow) -> _Routing:
    """A row's routing; one that does not decode (a hand-edited database) serves as none,
    loudly, rather than keep every code from loading."""
    if not row.routing:
        return _NO_ROUTING
    try:
        return _routing_json.decode(row.routing)
    except msgspec.MsgspecError as exc:
        log.error("code routing unreadable, served without it", slug=row.slug, error=str(exc))
        return _NO_ROUTING


class Code(msgspec.Struct, frozen=True, kw_only=True):
    """A live code: where it sends scans, and when it may."""

    slug: str
    target: str
    title: str | None
    tags: tuple[str, ...]
    enabled: bool
    valid_from: datetime | None
    valid_until: datetime | None
    max_scans: int | None
    redirect_status: RedirectStatus
    created_at: datetime
    updated_at: datetime
    fallback_url: str | None = None
    rules: tuple[Rule, ...] = ()
    split: tuple[SplitArm, ...] = ()
    forward_query: bool = False
    #: The argon2id hash of the password scans must give; None: no password.
    password_hash: str | None = None
    #: The content hash of the code's logo; None: no logo.
    logo: str | None = None
    #: ``url``: a link to ``target``; any other kind holds ``content`` (``target`` is "").
    kind: Kind = "url"
    content: Content | None = None
    #: Scans reach the server and are counted: a url code, a tracked vcard.
    tracked: bool = True

    @classmethod
    def from_row(cls, row: CodeRow) -> Code:
        """The code a stored row holds (its redirect status was checked when it was stored;
        an unknown one, from a hand-edited database, serves as the default 302)."""
        status = row.redirect_status if row.redirect_status in REDIRECT_STATUSES else 302
        routing = _routing_of(row)
        kind, content, tracked = _kind_of(row)
        return cls(
            slug=row.slug,
            target=row.target,
            title=row.title,
            tags=row.tags,
            enabled=row.enabled,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            max_scans=row.max_scans,
            redirect_status=cast(RedirectStatus, status),
            created_at=row.created_at,
            updated_at=row.updated_at,
            fallback_url=routing.fallback_url,
            rules=routing.rules,
            split=routing.split,
            forward_query=routing.forward_query,
            password_hash=row.password_hash,
            logo=row.logo,
            kind=kind,
            content=content,
            tracked=tracked,
        )

    def _routing(self) -> _Routing:
        return _Routing(
            fallback_url=self.fallback_url,
            rules=self.rules,
            split=self.split,
            forward_query=self.forward_query,
        )

    def row(self) -> CodeRow:
        """The row that stores this code."""
        routing = self._routing()
        return CodeRow(
            slug=self.slug,
            target=self.target,
            title=self.title,
            tags=self.tags,
            enabled=self.enabled,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            max_scans=self.max_scans,
            redirect_status=self.redirect_status,
            created_at=self.created_at,
            updated_at=self.updated_at,
            routing=None if routing == _NO_ROUTING else msgspec.json.encode(routing).decode(),
            password_hash=self.password_hash,
            logo=self.logo,
            content=self._stored_content(),
        )

    def _stored_content(self) -> str | None:
        if self.content is None:
            return None
        content = msgspec.Raw(msgspec.json.encode(self.content))
        stored = _Kind(kind=self.kind, content=content, tracked=self.tracked)
        return msgspec.json.encode(stored).decode()

    def state(self) -> CodeState:
        """What a ``code.created`` or ``code.updated`` event records of it."""
        return CodeState(
            slug=self.slug,
            target=self.target,
            title=self.title,
            tags=self.tags,
            enabled=self.enabled,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            max_scans=self.max_scans,
            redirect_status=self.redirect_status,
            fallback_url=self.fallback_url,
            rules=self.rules,
            split=self.split,
            forward_query=self.forward_query,
            has_password=self.password_hash is not None,
            logo=self.logo,
            kind=self.kind,
            content=None if self.content is None else msgspec.to_builtins(self.content),
            tracked=self.tracked,
        )
