"""``Domain``: a host codes live on besides the default one, and the rules a domain obeys.

A domain is a DNS name (its ``host``) that points at this server, with the origin its short
links and QR payloads are written with (``base_url``) and where its unknown slugs and its
root go (``not_found_url``, ``root_url``; unset: the server-wide ``SCANLET_NOT_FOUND_URL``
and ``SCANLET_ROOT_URL``). The default domain is the host of ``SCANLET_BASE_URL``: it is
not registered, and every request whose ``Host`` names no registered domain is its.

Hosts are names only, never IP literals: a box reached by its address (a health check, a
scanner, a misconfigured proxy) is served as the default domain, and an address changes
with the network while printed codes do not.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

import msgspec

from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.validation import validate_target
from scanlet.actors.events import DomainState
from scanlet.hosts import canonical_host, ends_in_a_number
from scanlet.storage.records import DomainRow

__all__ = (
    "HOST_NAME_PATTERN",
    "MAX_HOST_LENGTH",
    "Domain",
    "check_domain",
    "check_not_found_url",
    "normal_host",
    "origin_host",
)

#: The longest DNS name (RFC 1035: 255 octets on the wire, 253 characters written).
MAX_HOST_LENGTH = 253
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
#: What a host looks like, in the OpenAPI document and to ``normal_host`` alike: ASCII
#: labels (a name in another script in its IDNA ``xn--`` form, as DNS and the ``Host``
#: header carry it), the last one starting with a letter (so it never reads as a number).
HOST_NAME_PATTERN = (
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
    r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$"
)
_NOT_A_NAME = "must be a host name alone (no scheme, port, path or user name)"


def normal_host(value: str, field: str = "host") -> str:
    """``value`` as the one spelling a domain is stored and looked up by: lower case, no
    trailing dot. ``"Links.Example."`` -> ``"links.example"``; raise InvalidField naming
    ``field`` for anything that is not a DNS name (a URL, a port, a path, user info, an IP
    literal, a label over 63 or a name over 253 characters, a name not in ASCII: its
    ``xn--`` form is what requests carry in their ``Host``)."""
    if not value or len(value) > MAX_HOST_LENGTH + 1:
        raise InvalidField(field, f"must be 1 to {MAX_HOST_LENGTH} characters")
    if any(c in value for c in "/:@[]\\?#%") or any(c.isspace() for c in value):
        raise InvalidField(field, _NOT_A_NAME)
    if not value.isascii():
        raise InvalidField(field, "must be in ASCII (a name in another script in its xn-- form)")
    host = value.removesuffix(".").lower()
    if len(host) > MAX_HOST_LENGTH:
        raise InvalidField(field, f"must be at most {MAX_HOST_LENGTH} characters")
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise InvalidField(
            field,
            "must be dot-separated labels of 1 to 63 letters, digits or '-' "
            "(not at either end of a label)",
        )
    if ends_in_a_number(host) or not labels[-1][0].isalpha():
        raise InvalidField(
            field, "must be a DNS name whose last label starts with a letter (not an IP address)"
        )
    return host


def origin_host(url: str) -> str | None:
    """The host of an http(s) URL in the spelling domains use, or None if it has none."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return canonical_host(host) if host else None


def check_not_found_url(value: str, field: str = "not_found_url") -> str:
    """A not-found URL has a code target's rules once ``{slug}`` is filled in (the rule
    ``SCANLET_NOT_FOUND_URL`` obeys too)."""
    validate_target(value.replace("{slug}", "slug"), field)
    return value


def _check_base_url(host: str, base_url: str) -> str:
    validate_target(base_url, "base_url")
    parts = urlsplit(base_url)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidField("base_url", "must be an origin (scheme, host, port) without a path")
    if origin_host(base_url) != host:
        # Short links must come back with this Host, or they would land on another domain.
        raise InvalidField("base_url", f"must be on the domain's own host ({host})")
    return base_url.rstrip("/")


class Domain(msgspec.Struct, frozen=True, kw_only=True):
    """A registered domain."""

    host: str
    base_url: str
    not_found_url: str | None = None
    root_url: str | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: DomainRow) -> Domain:
        """The domain a stored row holds."""
        return cls(
            host=row.host,
            base_url=row.base_url,
            not_found_url=row.not_found_url,
            root_url=row.root_url,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def state(self) -> DomainState:
        """What a ``domain.created`` or ``domain.updated`` event records of it."""
        return DomainState(
            host=self.host,
            base_url=self.base_url,
            not_found_url=self.not_found_url,
            root_url=self.root_url,
        )

    def row(self) -> DomainRow:
        """The row that stores this domain."""
        return DomainRow(
            host=self.host,
            base_url=self.base_url,
            not_found_url=self.not_found_url,
            root_url=self.root_url,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


def check_domain(domain: Domain) -> Domain:
    """``domain`` with its base URL in its stored form if it obeys every rule; raise
    InvalidField naming the first field that does not."""
    base_url = _check_base_url(domain.host, domain.base_url)
    if domain.not_found_url is not None:
        check_not_found_url(domain.not_found_url)
    if domain.root_url is not None:
        validate_target(domain.root_url, "root_url")
    return msgspec.structs.replace(domain, base_url=base_url)
