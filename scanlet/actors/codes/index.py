"""The in-memory slug index the redirect path resolves against, with no database round trip.

Only the codes actor writes it (after its transaction commits); the redirect path reads it
from the same event loop, so a lookup is one dict access.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scanlet.actors.codes.decide import Router
from scanlet.actors.codes.domain_index import DomainIndex

__all__ = ("CodeIndex", "Route")


@dataclass(frozen=True, slots=True)
class Route:
    """What the redirect path needs to know about one live code."""

    target: str
    #: The target as a ``Location`` header value: ASCII, percent-encoded once, as bytes.
    location: bytes
    enabled: bool
    valid_from: datetime | None
    valid_until: datetime | None
    max_scans: int | None
    redirect_status: int
    #: Rules, split, fallback or query forwarding; None for a plain redirect to ``target``.
    router: Router | None = None

    def gone_reason(self, now: datetime) -> str | None:
        """Why the code cannot redirect at ``now`` (max_scans is checked by the scans actor)."""
        if not self.enabled:
            return "This code is disabled."
        if self.valid_from is not None and now < self.valid_from:
            return "This code is not valid yet."
        if self.valid_until is not None and now >= self.valid_until:
            return "This code has expired."
        return None


class CodeIndex:
    """Live codes by key (``scanlet.actors.codes.keys``: the slug on the default domain,
    ``host/slug`` on another), plus every key ever used (deleted ones stay taken), and the
    registered domains (``domains``)."""

    def __init__(self, domains: DomainIndex | None = None) -> None:
        self._routes: dict[str, Route] = {}
        self._taken: set[str] = set()
        self.domains = DomainIndex() if domains is None else domains

    def resolve(self, slug: str) -> Route | None:
        """The live code for ``slug``, or None."""
        return self._routes.get(slug)

    def is_taken(self, slug: str) -> bool:
        """Whether ``slug`` was ever used, including by a deleted code."""
        return slug in self._taken

    def put(self, slug: str, route: Route) -> None:
        """Add or replace a live code."""
        self._routes[slug] = route
        self._taken.add(slug)

    def remove(self, slug: str) -> None:
        """Delete a code; its slug stays taken."""
        self._routes.pop(slug, None)
        self._taken.add(slug)

    def reserve(self, slug: str) -> None:
        """Mark a slug as used without a live code (a tombstone loaded at start)."""
        self._taken.add(slug)

    def clear(self) -> None:
        """Forget everything (before a rebuild from storage)."""
        self._routes.clear()
        self._taken.clear()

    def live_on(self, host: str) -> int:
        """How many live codes the domain ``host`` has."""
        prefix = f"{host}/"
        return sum(1 for key in self._routes if key.startswith(prefix))

    def __len__(self) -> int:
        return len(self._routes)
