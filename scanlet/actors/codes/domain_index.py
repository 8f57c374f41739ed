"""The registered domains in memory: how a request's ``Host`` and an API's ``domain`` become
the domain whose codes they mean, with no database read.

Only the codes actor writes it (after its transaction commits), like the slug index beside
it; the scan path reads it on the same event loop. With no domain registered, ``hosts`` is
empty and the scan path never even reads the ``Host`` header.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanlet.actors.codes.domains import Domain, normal_host, origin_host
from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.keys import domain_of_key
from scanlet.storage.records import DomainRow

__all__ = ("DomainIndex", "DomainRoute")

#: Host header spellings remembered, and the longest one remembered (a host name is at most
#: 253 characters; a port and a trailing dot add a few).
_HEADER_MEMO_LIMIT = 1024
_HEADER_MEMO_BYTES = 270


@dataclass(frozen=True, slots=True)
class DomainRoute:
    """What the scan path needs to know about one registered domain."""

    host: str
    #: The start of every key of its codes: ``host/``.
    prefix: str
    base_url: str
    #: "" where the server-wide SCANLET_NOT_FOUND_URL / SCANLET_ROOT_URL apply.
    not_found_url: str
    root_url: str

    @classmethod
    def of(cls, domain: Domain) -> DomainRoute:
        """The index entry of a domain."""
        return cls(
            domain.host,
            f"{domain.host}/",
            domain.base_url,
            domain.not_found_url or "",
            domain.root_url or "",
        )


#: What the Host memo answers for a header it has not read yet.
_UNREAD = DomainRoute("", "", "", "", "")


class DomainIndex:
    """Registered domains by host, and the default domain (the public base URL's host)."""

    def __init__(self, default_base_url: str = "") -> None:
        self.default_base_url = default_base_url.rstrip("/")
        self.default_host = (origin_host(default_base_url) or "") if default_base_url else ""
        self.hosts: dict[str, DomainRoute] = {}
        # Host headers as sent -> their domain: a server sees a handful of spellings, and
        # the scan path then pays one lookup for its Host. Emptied when full (a client may
        # send any number of made-up hosts) and whenever a domain changes.
        self._by_header: dict[bytes, DomainRoute | None] = {}

    def of_host_header(self, value: bytes) -> DomainRoute | None:
        """The registered domain a ``Host`` header names, or None (the default domain):
        compared in lower case, without a port or a trailing dot. Anything that names no
        registered domain (an IP literal, garbage) is the default domain's."""
        found = self._by_header.get(value, _UNREAD)
        if found is not _UNREAD:
            return found
        found = self._read_host_header(value)
        if len(value) <= _HEADER_MEMO_BYTES:
            if len(self._by_header) >= _HEADER_MEMO_LIMIT:
                self._by_header.clear()
            self._by_header[value] = found
        return found

    def _read_host_header(self, value: bytes) -> DomainRoute | None:
        host = value.decode("latin-1").lower()
        if host.startswith("["):
            return None  # an IPv6 literal: never a registered domain
        return self.hosts.get(host.partition(":")[0].removesuffix("."))

    def resolve(self, value: str | None, field: str) -> str | None:
        """The host of the domain an API client names (None: the default domain, also when
        ``value`` is None or the default host); InvalidField naming ``field`` for a value
        that is not a host name or names no registered domain."""
        if value is None or value.lower().removesuffix(".") == self.default_host:
            return None
        host = normal_host(value, field)
        if host == self.default_host:
            return None
        if host not in self.hosts:
            raise InvalidField(field, f"no domain {host!r} is registered")
        return host

    def base_url_of(self, key: str) -> str:
        """The base URL short links of the code ``key`` are written with (the default one
        for a domain since removed: only its deleted codes can still be named)."""
        host = domain_of_key(key)
        route = None if host is None else self.hosts.get(host)
        return self.default_base_url if route is None else route.base_url

    def host_of(self, key: str) -> str:
        """The host a code ``key`` lives on (the default host for a bare slug)."""
        return domain_of_key(key) or self.default_host

    def put(self, domain: Domain) -> None:
        """Add or replace a domain."""
        self.hosts[domain.host] = DomainRoute.of(domain)
        self._by_header = {}

    def remove(self, host: str) -> None:
        """Forget a domain."""
        self.hosts.pop(host, None)
        self._by_header = {}

    def replace_all(self, domains: list[Domain]) -> None:
        """Serve exactly ``domains`` (after loading them from storage), in one swap."""
        self.hosts = {domain.host: DomainRoute.of(domain) for domain in domains}
        self._by_header = {}

    @classmethod
    def of_rows(cls, default_base_url: str, rows: list[DomainRow]) -> DomainIndex:
        """The index of stored domains (for a command that runs without the codes actor)."""
        index = cls(default_base_url)
        index.replace_all([Domain.from_row(row) for row in rows])
        return index

    def __len__(self) -> int:
        return len(self.hosts)
