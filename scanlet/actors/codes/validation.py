"""Validation of what users choose for a code: its redirect target and its slug.

Each validator returns its input unchanged when it is acceptable and raises
`InvalidField(field, message)` otherwise, never anything else, whatever the input.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from urllib.parse import urlsplit

from scanlet.actors.codes.errors import InvalidField
from scanlet.hosts import is_valid_host

__all__ = (
    "MAX_SLUG_LENGTH",
    "MAX_TAGS",
    "MAX_TAG_LENGTH",
    "MAX_TARGET_LENGTH",
    "MAX_TITLE_LENGTH",
    "REFUSED_IN_TARGET",
    "RESERVED_SLUGS",
    "SLUG_ALPHABET",
    "SLUG_PATTERN",
    "UNPRINTABLE",
    "generate_slug",
    "validate_slug",
    "validate_target",
)

MAX_TARGET_LENGTH = 2048
MAX_TITLE_LENGTH = 200
MAX_TAGS = 20
MAX_TAG_LENGTH = 64

# Names of the top-level routes (CONTRACT.md, "HTTP"), which `GET /{slug}` would otherwise
# shadow, plus a few that people expect a server to own. `openapi.json`, `favicon.ico` and
# `robots.txt` are absent because a dot can never appear in a slug. "q" stays reserved since
# QR payloads are served from `/q/{slug}`.
RESERVED_SLUGS: frozenset[str] = frozenset(
    {
        "admin",
        "api",
        "dashboard",
        "docs",
        "health",
        "livez",
        "login",
        "logout",
        "metrics",
        "q",
        "readyz",
        "static",
    }
)

# Letters and digits without the look-alikes 0/O and 1/l/I, so a slug read aloud or copied
# from print comes back right: 57 symbols, about 5.8 bits each (8 of them: about 46.7 bits).
SLUG_ALPHABET = "".join(
    c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" if c not in "0O1lI"
)

SLUG_PATTERN = "^[A-Za-z0-9_-]{1,64}$"
_SLUG = re.compile(SLUG_PATTERN)
MAX_SLUG_LENGTH = 64

# Unicode categories refused anywhere in a target: controls (C0, DEL, C1), invisible format
# characters (bidi overrides and zero-width joiners make a link read differently than it
# goes), lone surrogates (not encodable as UTF-8), and every kind of separator.
REFUSED_IN_TARGET = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Zs"})
#: Categories a title or a tag may not contain: the same but for spaces, which words need.
UNPRINTABLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_ALLOWED_SCHEMES = frozenset({"http", "https"})


def validate_target(value: str, field: str = "target") -> str:
    """Return `value` if it is an absolute http(s) URL fit to redirect to; raise InvalidField.

    Refused: other schemes (`javascript:`, `data:`, ...), a missing host, whitespace or control
    characters anywhere, backslashes (browsers read them as `/`, which lets a URL point
    somewhere other than it appears to), and userinfo (`https://user:pass@host/`): it is a
    phishing vector (`https://bank.example@evil.example/`) with no legitimate use in a
    public redirect. Non-ASCII text is allowed; the redirect response percent-encodes it.
    """
    if not value:
        raise InvalidField(field, "must not be empty")
    if len(value) > MAX_TARGET_LENGTH:
        raise InvalidField(field, f"must be at most {MAX_TARGET_LENGTH} characters")
    for char in value:
        if char.isspace() or unicodedata.category(char) in REFUSED_IN_TARGET:
            raise InvalidField(
                field, f"must not contain whitespace or control characters ({char!r})"
            )
    if "\\" in value:
        raise InvalidField(field, "must not contain backslashes")
    try:
        parts = urlsplit(value)
        # `.port` parses lazily and raises ValueError for a non-numeric or out-of-range port.
        parts.port  # noqa: B018
    except ValueError as exc:
        raise InvalidField(field, f"is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in _ALLOWED_SCHEMES:
        raise InvalidField(field, "must be an absolute http:// or https:// URL")
    if "@" in parts.netloc:
        raise InvalidField(field, "must not contain a user name or password")
    host = parts.hostname
    if not host:
        raise InvalidField(field, "must have a host")
    if not is_valid_host(host):
        raise InvalidField(field, f"has an invalid host ({host!r})")
    return value


def validate_slug(value: str, reserved: frozenset[str]) -> str:
    """Return `value` if it is 1-64 of [A-Za-z0-9_-] and not reserved; raise InvalidField.

    Reserved names are compared case-insensitively: `/API` must not become a code either.
    """
    if not _SLUG.fullmatch(value):
        raise InvalidField("slug", "must be 1 to 64 characters of letters, digits, '-' and '_'")
    lowered = value.lower()
    if any(lowered == name.lower() for name in reserved):
        raise InvalidField("slug", f"{value!r} is reserved")
    return value


def generate_slug(length: int = 8) -> str:
    """Return a fresh random slug of `length` characters from SLUG_ALPHABET, never reserved.

    Drawn from `secrets` (a CSPRNG), so slugs can't be guessed or enumerated in order.
    """
    if not 1 <= length <= MAX_SLUG_LENGTH:
        raise ValueError(f"slug length must be between 1 and {MAX_SLUG_LENGTH}, not {length}")
    reserved = {name.lower() for name in RESERVED_SLUGS}
    while True:
        slug = "".join(secrets.choice(SLUG_ALPHABET) for _ in range(length))
        # Only short lengths can hit a reserved name ("q" at length 1); draw again if so.
        if slug.lower() not in reserved:
            return slug
