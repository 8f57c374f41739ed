"""Client addresses handled privately: who the client is, how much of it to keep, and how to
count unique visitors without keeping anything that identifies them.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import re
from collections.abc import Sequence
from typing import Protocol, TypeAlias, runtime_checkable

from scanlet.storage.server_key import ServerKey

__all__ = (
    "VISITOR_HASH_PURPOSE",
    "Network",
    "SaltSource",
    "VisitorHasher",
    "anonymize_ip",
    "client_address",
)

Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

# The prefix kept of an IPv6 address: /48 is the usual size of one site's allocation, so what
# remains names a network operator and region, not a household (a /64 often would).
_IPV6_KEPT_BITS = 48
_IPV6_MASK = ((1 << _IPV6_KEPT_BITS) - 1) << (128 - _IPV6_KEPT_BITS)
_IPV4_MASK = 0xFFFFFF00


def _parse_address(text: str) -> _Address | None:
    """Parse a bare IP address, turning IPv4-mapped IPv6 (::ffff:1.2.3.4) into IPv4."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_PLAIN_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


def _is_plain_ipv4(text: str) -> bool:
    """Whether ``text`` is a dotted-quad IPv4 address in canonical form (the common case,
    checked with one regex instead of an ``ipaddress`` object: this runs on every scan)."""
    return _PLAIN_IPV4.fullmatch(text) is not None


def anonymize_ip(address: str) -> str:
    """Return `address` with its host part zeroed, or "" if it is not an IP address.

    IPv4 keeps its first three octets (1.2.3.4 -> 1.2.3.0), IPv6 its first 48 bits
    (2001:db8:abcd:1234::1 -> 2001:db8:abcd::); IPv4-mapped IPv6 is treated as IPv4
    (::ffff:1.2.3.4 -> 1.2.3.0). Unparseable input gives "" rather than a placeholder
    such as "unknown", so it can't be mistaken for an address and is falsy for callers.
    """
    if _is_plain_ipv4(address):
        return address[: address.rindex(".")] + ".0"
    parsed = _parse_address(address)
    if parsed is None:
        return ""
    if isinstance(parsed, ipaddress.IPv4Address):
        return str(ipaddress.IPv4Address(int(parsed) & _IPV4_MASK))
    # Rebuilding from the integer also drops any zone id ("%eth0").
    return str(ipaddress.IPv6Address(int(parsed) & _IPV6_MASK))


def _is_trusted(address: _Address, trusted: Sequence[Network]) -> bool:
    # `in` between an address and a network of the other IP version is simply False.
    return any(address in network for network in trusted)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """Return the client's address, believing X-Forwarded-For only as far as trusted hops go.

    When the peer is in a trusted network, X-Forwarded-For is read from the right (each proxy
    appends the address it saw), skipping trusted hops; the first untrusted address is the
    client. Anything to its left was written by the client and is ignored, so it can't be
    spoofed. A malformed entry stops the walk at the last address verified so far; a chain of
    trusted hops only gives its leftmost. Repeated X-Forwarded-For headers must be joined with
    "," first. Entries are bare addresses (no ports). The result is canonical
    (IPv4-mapped IPv6 as IPv4), or "" when the peer is missing or not an IP address.
    """
    if peer is None:
        return ""
    if (not forwarded_for or not trusted) and _is_plain_ipv4(peer):
        return peer
    current = _parse_address(peer)
    if current is None:
        return ""
    if not forwarded_for or not _is_trusted(current, trusted):
        return str(current)
    for entry in reversed(forwarded_for.split(",")):
        hop = _parse_address(entry.strip())
        if hop is None:
            break
        current = hop
        if not _is_trusted(hop, trusted):
            break
    return str(current)


@runtime_checkable
class SaltSource(Protocol):
    """Where VisitorHasher gets the secret salt of each day."""

    def salt_for(self, day: datetime.date) -> bytes:
        """Return the salt of `day`, the same every time it is asked."""
        ...


#: The server key's purpose label for the visitor-hash keys derived from it.
VISITOR_HASH_PURPOSE = "visitor-hash"


class VisitorHasher:
    """Turns (day, address, user agent) into an opaque visitor id for counting uniques.

    The day's hash key is HMAC-SHA256(server key, "visitor-hash" NUL day's salt). It needs
    both halves: the salt is stored in the database and deleted after two days (so old
    days cannot be linked again, by anybody), the server key lives in a file outside the
    database (so a copy of the database or a backup, which holds the salt, cannot recompute
    a hash: an IPv4 hash with its /24 stored beside it would otherwise give the address
    back in 256 guesses).
    """

    def __init__(self, salts: SaltSource, server_key: ServerKey) -> None:
        self._salts = salts
        self._server_key = server_key
        # The day's hash state with its key already absorbed: keyed BLAKE2b spends a whole
        # compression on the key, so copying this state is cheaper than starting over
        # (0.56 against 0.73 us a scan). Only the newest day is kept, and the HMAC that
        # derives its key runs once a day, not once a scan.
        self._keyed: tuple[datetime.date, hashlib.blake2b] | None = None

    def day_key(self, day: datetime.date) -> bytes:
        """The 32-byte BLAKE2b key of ``day``: its salt under the server key."""
        return self._server_key.derive(VISITOR_HASH_PURPOSE, self._salts.salt_for(day))

    def visitor_hash(self, day: datetime.date, address: str, user_agent: str) -> str:
        """Return the hex keyed BLAKE2b-128 of address, NUL, user agent, keyed by the day's key.

        Equal inputs on one day give equal hashes; another day's salt gives unrelated ones.
        """
        keyed = self._keyed
        if keyed is None or keyed[0] != day:
            state = hashlib.blake2b(key=self.day_key(day), digest_size=16)
            keyed = self._keyed = (day, state)
        digest = keyed[1].copy()
        # surrogatepass: header text never holds lone surrogates, but hashing must not fail
        # whatever string it is given.
        digest.update(f"{address}\0{user_agent}".encode("utf-8", "surrogatepass"))
        return digest.hexdigest()
