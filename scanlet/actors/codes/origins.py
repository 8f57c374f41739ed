"""The server's own origins, which no code may redirect to.

A code whose target is one of this server's own short links (or any other page of its
origin) sends a scan back into Scanlet: a loop when it points at itself, a chain that hides
the final target when it points at another code. Both are refused when a target is set.

Origins are compared as browsers would go to them: hosts in one spelling
(``scanlet.hosts.canonical_host``: case, a trailing dot, IDNA forms and IPv4 spellings do
not matter) and default ports filled in. The plain-HTTP origin of an ``https`` one on the
default port counts as own too: in every usual deployment (Caddy's automatic HTTPS as in
``deploy/Caddyfile``, an nginx redirect, HSTS) it only redirects to the ``https`` one.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from scanlet.actors.codes.errors import InvalidField
from scanlet.hosts import canonical_host

__all__ = ("OwnOrigins",)

_DEFAULT_PORTS = {"http": 80, "https": 443}
Origin = tuple[str, str, int]


def _origin(url: str) -> Origin | None:
    """``(scheme, canonical host, port)`` of an http(s) URL, or None for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, canonical_host(parts.hostname), port or _DEFAULT_PORTS[scheme]


class OwnOrigins:
    """The origins this server answers on (its public base URL, and any more it is given);
    ``check_target`` refuses a target on one of them."""

    def __init__(self, urls: Iterable[str]) -> None:
        # Each own origin, and the configured URL to name in a refusal.
        self._named: dict[Origin, str] = {}
        # The origins given at start (the public base URL): never discarded.
        self._fixed: set[Origin] = set()
        for url in urls:
            self.add(url)
        self._fixed = set(self._named)

    @staticmethod
    def _origins_of(url: str) -> list[Origin]:
        origin = _origin(url)
        if origin is None:
            raise ValueError(f"not an http(s) origin: {url!r}")
        scheme, host, port = origin
        if scheme == "https" and port == 443:
            return [origin, ("http", host, 80)]
        return [origin]

    def add(self, url: str) -> None:
        """Count ``url``'s origin as own too (a registered domain's base URL)."""
        parts = urlsplit(url)
        shown = f"{parts.scheme}://{parts.netloc}".lower()
        for origin in self._origins_of(url):
            self._named.setdefault(origin, shown)

    def discard(self, url: str) -> None:
        """Stop counting ``url``'s origin as own (a domain removed or moved), unless it was
        given at start."""
        for origin in self._origins_of(url):
            if origin not in self._fixed:
                self._named.pop(origin, None)

    def holds(self, target: str) -> bool:
        """Whether ``target`` is a URL on one of the server's own origins."""
        return _origin(target) in self._named

    def check_target(self, target: str, field: str = "target") -> None:
        """Raise InvalidField naming ``field`` when ``target`` points at this server itself."""
        origin = _origin(target)
        if origin is not None and origin in self._named:
            raise InvalidField(
                field,
                f"must not point at this server ({self._named[origin]}): "
                "a code cannot redirect to a short link",
            )
