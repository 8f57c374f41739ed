"""Who is asking and what they may do: the one place every entrance (API, dashboard, CLI)
asks before it changes or shows anything.

A role includes the ones below it: ``viewer`` reads; ``editor`` also creates and changes
codes; ``admin`` also manages webhooks, keys and users; ``owner`` also manages owners. A key's
scope (``read``, ``write``, ``admin``) is the same ladder under its older names, and a key acts
with the lower of its scope and its user's current role, so it never exceeds its user.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from scanlet.actors.codes.keys import domain_of_key
from scanlet.actors.events import By

__all__ = (
    "DEFAULT_DOMAIN",
    "SYSTEM",
    "Principal",
    "Role",
    "effective_limit",
    "on_domains",
    "within_limit",
    "within_limits",
)

#: How a domain limit names the default domain, whose codes' keys have no ``host/`` part
#: (stored keys and users name it by its host; ``principals`` turns that into this).
DEFAULT_DOMAIN = ""


class Role(enum.IntEnum):
    """What an account may do; each role includes the ones below it."""

    VIEWER = 1
    EDITOR = 2
    ADMIN = 3
    OWNER = 4

    @classmethod
    def parse(cls, name: str) -> Role:
        """``"editor"`` -> ``Role.EDITOR``; raises ValueError for anything else."""
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(
                f"unknown role {name!r}: expected viewer, editor, admin or owner"
            ) from None

    @property
    def label(self) -> str:
        """The lower-case name used in the CLI, the API and the database."""
        return self.name.lower()


#: Who a change is recorded as: a user, a key, or the system (the CLI, the server itself).
ActorKind = Literal["user", "key", "system"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking, with what they may do right now.

    ``tags`` limits them to codes carrying one of those tags, ``domains`` to codes on one of
    those hosts (``DEFAULT_DOMAIN`` for the default domain); None means no such limit. A
    code must be within both.
    """

    kind: ActorKind
    id: str
    role: Role
    tags: frozenset[str] | None = None
    domains: frozenset[str] | None = None
    #: The account behind a key (the user's own id for a user; None for the system and for
    #: keys made before accounts).
    user_id: str | None = None
    #: How the dashboard names them: an email or a key's name.
    name: str = ""

    @property
    def author(self) -> By:
        """How events record this principal as their cause."""
        return By(self.kind, self.id)

    def may(self, needed: Role) -> bool:
        """Whether this principal's role is ``needed`` or above."""
        return self.role >= needed

    @property
    def limited(self) -> bool:
        """Whether a tag or a domain limit narrows what this principal sees."""
        return self.tags is not None or self.domains is not None

    def sees(self, code_tags: Iterable[str], key: str) -> bool:
        """Whether the code ``key`` with ``code_tags`` is within this principal's limits."""
        return within_limits(self.tags, self.domains, key, code_tags)


def within_limit(limit: frozenset[str] | None, code_tags: Iterable[str] | None) -> bool:
    """Whether a code with ``code_tags`` (or what is about it: its stats, scans, events) is
    within a tag ``limit`` (None: no limit). ``code_tags`` None is no code at all (an orphan
    scan, a webhook's event) or one unknown: only an unlimited view shows those.

    ``{"a"}, ("a", "b")`` -> True; ``{"a"}, ()`` -> False; ``None, None`` -> True.
    """
    if limit is None:
        return True
    return code_tags is not None and not limit.isdisjoint(code_tags)


def on_domains(limit: frozenset[str] | None, key: str) -> bool:
    """Whether the code ``key`` (or what is about it) is on a domain of ``limit`` (None: no
    limit). ``{""}, "menu"`` -> True; ``{"a.example"}, "a.example/menu"`` -> True."""
    return limit is None or (domain_of_key(key) or DEFAULT_DOMAIN) in limit


def within_limits(
    tags: frozenset[str] | None,
    domains: frozenset[str] | None,
    key: str | None,
    code_tags: Iterable[str] | None,
) -> bool:
    """Whether the code ``key`` with ``code_tags`` (or what is about it) is within a tag
    limit and a domain limit (None: no such limit). ``key`` or ``code_tags`` None is no code
    at all (an orphan scan, a webhook's event) or one unknown: only an unlimited view shows
    those."""
    if tags is None and domains is None:
        return True
    if key is None or code_tags is None:
        return False
    return within_limit(tags, code_tags) and on_domains(domains, key)


#: The server itself and the command line (whoever can run it can open the database).
SYSTEM = Principal(kind="system", id="system", role=Role.OWNER, name="system")


def effective_limit(*limits: Iterable[str]) -> frozenset[str] | None:
    """The tag or domain limit of several limits that all apply (a user's and their key's):
    an empty limit is no limit; otherwise only values in every one. ``(), ("a", "b")`` ->
    ``{"a", "b"}``; ``("a",), ("b",)`` -> ``set()`` (nothing at all)."""
    result: frozenset[str] | None = None
    for limit in limits:
        tags = frozenset(limit)
        if not tags:
            continue
        result = tags if result is None else result & tags
    return result
