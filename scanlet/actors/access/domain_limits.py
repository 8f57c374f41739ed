"""Domain limits of keys and users: which hosts a limit may name, and how it is stored.

A limit names registered domains, or the default one, by host; it is stored sorted, each
host once, in lower case (the default domain by its host too, which ``principals`` turns
into ``DEFAULT_DOMAIN`` for the checks). Every entrance (the users API, the command line)
reads a limit through ``normal_domains``.
"""

from __future__ import annotations

from collections.abc import Sequence

from scanlet.actors.access.errors import InvalidAccountField
from scanlet.actors.codes.domain_index import DomainIndex
from scanlet.actors.codes.errors import InvalidField

__all__ = ("MAX_LIMIT_DOMAINS", "normal_domains")

#: More hosts than any box registers; a bound on what one request makes us resolve.
MAX_LIMIT_DOMAINS = 100


def normal_domains(
    raw: Sequence[str], hosts: DomainIndex, field: str = "domains"
) -> tuple[str, ...]:
    """The stored form of a domain limit: InvalidAccountField naming ``field`` for a value
    that is not a host name or names no registered domain (nor the default one).

    ``["Menu.Example.org.", "qr.example.com"]`` -> ``("menu.example.org", "qr.example.com")``
    """
    if len(raw) > MAX_LIMIT_DOMAINS:
        raise InvalidAccountField(field, f"at most {MAX_LIMIT_DOMAINS} domains")
    found: set[str] = set()
    for value in raw:
        try:
            host = hosts.resolve(value.strip(), field)
        except InvalidField as exc:
            raise InvalidAccountField(field, exc.msg) from None
        found.add(hosts.default_host if host is None else host)
    return tuple(sorted(found))
