"""How Scanlet reads a host name: IPv4 literals as browsers read them, IDNA forms of names.

Shared by the contexts that judge hosts (a code's target, a webhook's URL) and by what shows
them, so that every place spells and compares a host the same way.

Names are mapped as browsers map them before a lookup (UTS #46, non-transitional, as
Chromium and Firefox do: case folded, fullwidth and other compatibility forms narrowed, so
``QR.Example.`` typed in fullwidth letters is ``qr.example``), through the ``idna`` package
(IDNA 2008). A label that
IDNA 2008 refuses but browsers still accept (symbols such as ``☃``) falls back to the
standard library's IDNA 2003 codec.
"""

from __future__ import annotations

import encodings.idna
import ipaddress
import re

import idna

__all__ = (
    "HOST_PATTERN",
    "HostLabel",
    "canonical_host",
    "ends_in_a_number",
    "host_labels",
    "http_url_pattern",
    "is_valid_host",
    "parse_ipv4",
)

_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_ACE_PREFIX = "xn--"

_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
#: Host names as the OpenAPI document shows them (a regex fragment, valid in ECMA-262, Python
#: and Rust dialects): ASCII labels of letters, digits, ``-`` and ``_`` whose last one starts
#: with a non-digit (so it never reads as a number), or a dotted-quad IPv4 address; a trailing
#: dot is allowed. Every host it matches passes ``is_valid_host``. Names in other scripts and
#: bracketed IPv6 literals are accepted too but left out, to keep the pattern readable.
HOST_PATTERN = rf"(?:(?:[A-Za-z0-9_-]+\.)*[A-Za-z_-][A-Za-z0-9_-]*|{_OCTET}(?:\.{_OCTET}){{3}})\.?"
#: An optional port, as ``urlsplit(...).port`` reads one: ASCII digits (leading zeros too),
#: at most 65535; an empty port is no port.
_PORT_PATTERN = (
    "(?::0*(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})?)?"
)


def http_url_pattern(refused: str) -> str:
    """The documented pattern of an absolute http(s) URL whose host is ``HOST_PATTERN`` and
    whose path, query and fragment contain none of the characters in ``refused`` (the inside
    of a regex character class)."""
    return f"^[Hh][Tt][Tt][Pp][Ss]?://{HOST_PATTERN}{_PORT_PATTERN}(?:[/?#][^{refused}]*)?$"


def is_valid_host(host: str) -> bool:
    """Whether ``host`` (as ``urlsplit`` gives it: lower case, IPv6 without brackets) can be a
    host: an IPv6 literal without a zone id, or dot-separated labels of letters or digits of
    any script, ``-`` and ``_`` (browsers accept ``_`` in the names some services really use),
    with an optional trailing dot."""
    if ":" in host:
        # Only bracketed IPv6 literals contain colons; zone ids ("%eth0") name an interface of
        # one machine, which means nothing to anyone else.
        if "%" in host:
            return False
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    labels = host.removesuffix(".").split(".")
    return all(label and all(c.isalnum() or c in "-_" for c in label) for label in labels)


def _number(part: str) -> int | None:
    lowered = part.lower()
    if lowered.startswith("0x"):
        return int(lowered[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if all(c in "01234567" for c in part) else None
    return int(part) if part.isdigit() else None


def ends_in_a_number(host: str) -> bool:
    """Whether the last label of ``host`` is numeric (decimal, octal or hex), which makes
    browsers read the whole host as an IPv4 address (WHATWG URL, "ends in a number")."""
    return bool(_NUMERIC_LABEL.match(host.removesuffix(".").rsplit(".", 1)[-1]))


def parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """``host`` read as an IPv4 literal the way ``inet_aton`` does, or None if it is not one.

    ``"127.1"`` -> 127.0.0.1, ``"0x7f000001"`` -> 127.0.0.1, ``"017700000001"`` -> 127.0.0.1.
    """
    parts = host.removesuffix(".").split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_LABEL.match(p) for p in parts):
        return None
    numbers = [_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    *head, last = values
    if any(n > 255 for n in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for index, n in enumerate(head):
        value |= n << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


class HostLabel:
    """One label of a host name in both of its forms, as a browser maps it.

    ``text`` is the Unicode form (an ``xn--`` label decoded), ``ascii`` the IDNA form sent to
    DNS (None when the label cannot be encoded at all).
    """

    __slots__ = ("ascii", "text")

    def __init__(self, text: str, ascii_form: str | None) -> None:
        self.text = text
        self.ascii = ascii_form


def _mapped(label: str) -> str:
    try:
        return str(idna.uts46_remap(label, std3_rules=False, transitional=False))
    except (idna.IDNAError, UnicodeError):
        return label.lower()


def _label(raw: str) -> HostLabel:
    mapped = _mapped(raw)
    if mapped.isascii():
        if mapped.startswith(_ACE_PREFIX):
            try:
                return HostLabel(idna.decode(mapped), mapped)
            except (idna.IDNAError, UnicodeError):
                return HostLabel(mapped, mapped)  # not valid punycode: shown as it is
        return HostLabel(mapped, mapped)
    try:
        encoded = idna.encode(mapped, uts46=False)
    except (idna.IDNAError, UnicodeError):
        try:
            encoded = encodings.idna.ToASCII(mapped)
        except UnicodeError:
            return HostLabel(mapped, None)
    return HostLabel(mapped, encoded.decode("ascii"))


def host_labels(host: str) -> list[HostLabel]:
    """The labels of a host name (as ``urlsplit(...).hostname`` gives it), without the empty
    one a trailing dot leaves: ``"Bücher.DE."`` -> ``bücher`` / ``xn--bcher-kva``, ``de``."""
    return [_label(raw) for raw in host.removesuffix(".").split(".")]


def canonical_host(host: str) -> str:
    """One spelling per host, for comparing hosts: IP literals in their normal form (any
    IPv4 spelling dotted, IPv6 compressed), names in their IDNA ASCII form, lower case,
    without a trailing dot. ``"0x7f.1"`` -> ``"127.0.0.1"``, ``"QR.Example."`` ->
    ``"qr.example"``, ``"Bücher.de"`` -> ``"xn--bcher-kva.de"``."""
    bare = host.strip("[]")
    if ":" in bare:
        try:
            return str(ipaddress.IPv6Address(bare))
        except ValueError:
            return bare.lower()
    if ends_in_a_number(bare):
        address = parse_ipv4(bare)
        if address is not None:
            return str(address)
    labels = host_labels(bare)
    return ".".join(label.ascii or label.text for label in labels)
