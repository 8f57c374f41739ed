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
    #: A tracked vcard code's card (vCard 3.0, UTF-8): served instead of a redirect.
    card: bytes | None = None

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
    registered domains (``domains``).

    Static codes (not links: their image holds their content) take a key but have no
    route. Keys are also known by their upper-case form, for ``/Q/{slug}``: the compact
    QR payload writes the slug in capitals, and the one key ever taken with that form is
    the one it means. A host is lower case, so ``HOST/SLUG`` folds only keys of the same
    domain: a slug is unique ignoring case within its domain, not across domains.
    """

    def __init__(self, domains: DomainIndex | None = None) -> None:
        self._routes: dict[str, Route] = {}
        self._taken: set[str] = set()
        self._static: set[str] = set()
        #: Upper-case form -> the one key ever taken with it (None: two or more have).
        self._folded: dict[str, str | None] = {}
        self.domains = DomainIndex() if domains is None else domains

    def resolve(self, slug: str) -> Route | None:
        """The live code for ``slug``, or None."""
        return self._routes.get(slug)

    def canonical(self, slug: str) -> str | None:
        """The slug ``slug`` names ignoring case: the one slug ever taken that equals it
        so (``MENU`` -> ``menu``); None when there is none, or several (never a guess)."""
        return self._folded.get(slug.upper())

    def unique_ignoring_case(self, slug: str) -> bool:
        """Whether ``slug`` is the only slug ever taken with its upper-case form."""
        return self._folded.get(slug.upper()) == slug

    def taken_ignoring_case(self, slug: str) -> bool:
        """Whether a slug equal to ``slug`` ignoring case was ever taken."""
        return slug.upper() in self._folded

    def is_static(self, slug: str) -> bool:
        """Whether ``slug`` is a live static code (no scans reach it)."""
        return slug in self._static

    def _take(self, slug: str) -> None:
        if slug in self._taken:
            return
        self._taken.add(slug)
        folded = slug.upper()
        self._folded[folded] = slug if folded not in self._folded else None

    def is_taken(self, slug: str) -> bool:
        """Whether ``slug`` was ever used, including by a deleted code."""
        return slug in self._taken

    def put(self, slug: str, route: Route | None) -> None:
        """Add or replace a live code (``route`` None: a static code)."""
        if route is None:
            self._routes.pop(slug, None)
            self._static.add(slug)
        else:
            self._routes[slug] = route
            self._static.discard(slug)
        self._take(slug)

    def remove(self, slug: str) -> None:
        """Delete a code; its slug stays taken."""
        self._routes.pop(slug, None)
        self._static.discard(slug)
        self._take(slug)

    def reserve(self, slug: str) -> None:
        """Mark a slug as used without a live code (a tombstone loaded at start)."""
        self._take(slug)

    def clear(self) -> None:
        """Forget everything (before a rebuild from storage)."""
        self._routes.clear()
        self._taken.clear()
        self._static.clear()
        self._folded.clear()

    def live_on(self, host: str) -> int:
        """How many live codes the domain ``host`` has."""
        prefix = f"{host}/"
        return sum(1 for key in self._routes if key.startswith(prefix)) + sum(
            1 for key in self._static if key.startswith(prefix)
        )

    def __len__(self) -> int:
        return len(self._routes)
