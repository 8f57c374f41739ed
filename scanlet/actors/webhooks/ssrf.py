"""SSRF guard: webhook URLs may only reach public addresses (unless configured otherwise).

A webhook makes this server send requests where a user says, so a user could aim it at the
server's own network: the loopback interface, a database on a private address, a cloud
metadata service. The guard refuses such targets twice: when an endpoint is created (the
URL's host is a literal address or resolves to one), and at every new connection a delivery
makes (``vet_host``), because DNS may answer differently later ("DNS rebinding"). The
connection then goes to the very address that was vetted, never to a second lookup.

IPv4 literals are read the way ``inet_aton`` and browsers read them (``scanlet.hosts``), so
``2130706433``, ``0x7f.1`` and ``0177.0.0.1`` are all 127.0.0.1; IPv6 addresses that embed an
IPv4 one (IPv4-mapped, NAT64, 6to4) are judged by the embedded address.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import anyio

from scanlet.hosts import ends_in_a_number, http_url_pattern, is_valid_host, parse_ipv4

__all__ = (
    "MAX_URL_LENGTH",
    "URL_PATTERN",
    "IPAddress",
    "Resolver",
    "Target",
    "UnsafeUrl",
    "check_url",
    "forbidden_reason",
    "system_resolver",
    "vet_host",
    "vet_url",
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Resolves a host name to its addresses (injectable: tests hand in a fake DNS).
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

MAX_URL_LENGTH = 2048

# Cloud metadata services; most are link-local or private anyway, named here so the refusal
# says what they are and so none slips through a range this module does not list.
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)
_METADATA_NAMES = frozenset({"metadata.google.internal", "metadata", "instance-data"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_BAD_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
#: What ``check_url`` accepts, as the OpenAPI document shows it (see ``http_url_pattern``).
URL_PATTERN = http_url_pattern("\\u0000-\\u0020\\u007f\\\\")


class UnsafeUrl(ValueError):
    """Raised when a webhook URL is malformed or would reach a forbidden address."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Target:
    """A checked URL's scheme, host (lowercase, IPv6 without brackets) and port."""

    __slots__ = ("host", "port", "scheme")

    def __init__(self, scheme: str, host: str, port: int) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port


def _literal(host: str) -> IPAddress | None:
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    return parse_ipv4(host)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why a webhook may not reach ``ip`` (e.g. ``"loopback"``), or None if it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = forbidden_reason(embedded)
            return f"{reason} (embedded in {ip})" if reason else None
    checks = (
        (ip in _METADATA, "a cloud metadata address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    )
    for hit, reason in checks:
        if hit:
            return reason
    return None


def check_url(url: str) -> Target:
    """Check a URL's form: http(s), a host, no user info, no odd characters; UnsafeUrl if not.

    Host names whose last label is numeric must be valid IPv4 literals (as browsers read them).
    """
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if _BAD_CHARS.search(url):
        raise UnsafeUrl("the URL contains whitespace, control characters or a backslash")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"the URL cannot be parsed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrl("only http and https URLs are allowed")
    if "@" in parts.netloc:
        raise UnsafeUrl("the URL must not contain user info")
    host = (parts.hostname or "").removesuffix(".")
    if not host:
        raise UnsafeUrl("the URL has no host")
    if ":" not in host and not is_valid_host(host):
        raise UnsafeUrl(f"{host!r} is not a valid host name")
    if ":" not in host and ends_in_a_number(host) and not parse_ipv4(host):
        raise UnsafeUrl(f"{host!r} is not a valid IPv4 address")
    if ":" in host and _literal(host) is None:
        raise UnsafeUrl(f"{host!r} is not a valid IPv6 address")
    return Target(scheme, host, port or (443 if scheme == "https" else 80))


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The addresses the operating system's resolver gives for ``host`` (empty: none)."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    return found


async def vet_host(
    host: str, port: int, *, allow_private: bool, resolver: Resolver
) -> list[IPAddress]:
    """The addresses to connect to for ``host``: every one must be allowed, else UnsafeUrl."""
    host = host.strip("[]").lower().removesuffix(".")
    literal = _literal(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        if not allow_private and (
            host in _METADATA_NAMES or host == "localhost" or host.endswith(".localhost")
        ):
            raise UnsafeUrl(f"{host} is a local or metadata host name")
        addresses = await resolver(host, port)
        if not addresses:
            raise UnsafeUrl(f"{host} does not resolve to any address")
    if not allow_private:
        for ip in addresses:
            reason = forbidden_reason(ip)
            if reason is not None:
                shown = host if literal is not None else f"{host} resolves to {ip}, which"
                raise UnsafeUrl(f"{shown} is {reason}")
    return addresses


async def vet_url(url: str, *, allow_private: bool, resolver: Resolver) -> None:
    """Check a new endpoint's URL: its form and, unless allowed, where it resolves to."""
    target = check_url(url)
    if not allow_private:
        await vet_host(target.host, target.port, allow_private=False, resolver=resolver)
