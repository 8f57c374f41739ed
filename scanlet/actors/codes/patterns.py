"""The rules of a code as the OpenAPI document shows them: JSON Schema patterns.

The validators (``validation``, ``rules``) decide what is accepted and say why not; these
patterns describe the same rules to clients, and to schemathesis, which generates requests
from them. They are written in the subset of regex syntax that ECMA-262 (JSON Schema's
dialect), Python and Rust read alike: ``\\uXXXX`` escapes, classes, alternation.
``tests/actors/codes/test_patterns.py`` checks each against its validator.
"""

from __future__ import annotations

from collections.abc import Iterable

from scanlet.actors.codes.validation import REFUSED_IN_TARGET, RESERVED_SLUGS, UNPRINTABLE
from scanlet.hosts import http_url_pattern

__all__ = (
    "MULTI_LINE_PATTERN",
    "RESERVED_SLUG_PATTERN",
    "TAG_PATTERN",
    "TARGET_PATTERN",
    "TITLE_PATTERN",
)

# The characters of each refused Unicode category in the Basic Multilingual Plane (Unicode
# 14, as Python 3.11's unicodedata has it; the test compares this table with unicodedata).
# Beyond it only a few format characters (tags, musical and hieroglyph format controls)
# remain: the validators refuse them too, the patterns leave them out. Surrogates (Cs)
# cannot be written in a pattern Rust's regex reads, and cannot be sent as UTF-8 anyway.
_BMP: dict[str, tuple[tuple[int, int], ...]] = {
    "Cc": ((0x00, 0x1F), (0x7F, 0x9F)),
    "Cf": (
        (0xAD, 0xAD),
        (0x600, 0x605),
        (0x61C, 0x61C),
        (0x6DD, 0x6DD),
        (0x70F, 0x70F),
        (0x890, 0x891),
        (0x8E2, 0x8E2),
        (0x180E, 0x180E),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
    ),
    "Zl": ((0x2028, 0x2028),),
    "Zp": ((0x2029, 0x2029),),
    "Zs": (
        (0x20, 0x20),
        (0xA0, 0xA0),
        (0x1680, 0x1680),
        (0x2000, 0x200A),
        (0x202F, 0x202F),
        (0x205F, 0x205F),
        (0x3000, 0x3000),
    ),
}


def bmp_ranges(categories: Iterable[str]) -> list[tuple[int, int]]:
    """The code point ranges of ``categories`` in the table, sorted and merged."""
    ranges = sorted(r for category in categories for r in _BMP.get(category, ()))
    merged: list[tuple[int, int]] = []
    for low, high in ranges:
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    return merged


def _class_body(categories: Iterable[str]) -> str:
    """The inside of a regex character class naming every character of ``categories``."""
    return "".join(
        f"\\u{low:04x}" if low == high else f"\\u{low:04x}-\\u{high:04x}"
        for low, high in bmp_ranges(categories)
    )


def _any_case(word: str) -> str:
    # No inline flags: ECMA-262 has none, so each letter spells both of its cases.
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


_UNPRINTABLE = _class_body(UNPRINTABLE)
_INVISIBLE = _class_body(REFUSED_IN_TARGET)

#: An absolute http(s) URL with a plain host, without whitespace, controls, invisible
#: characters or backslashes (``validate_target``; its length is a separate maxLength).
TARGET_PATTERN = http_url_pattern("\\\\" + _INVISIBLE)
#: Printable text: no controls, format characters or line separators (spaces are fine).
TITLE_PATTERN = f"^[^{_UNPRINTABLE}]*$"
#: Printable text that may hold line breaks and tabs (a message's body, a text code).
MULTI_LINE_PATTERN = f"^(?:[^{_UNPRINTABLE}]|[\\t\\n\\r])*$"
#: Printable text with at least one character that is not a space (tags are trimmed).
TAG_PATTERN = f"^[^{_UNPRINTABLE}]*[^{_INVISIBLE}][^{_UNPRINTABLE}]*$"
#: The reserved names, in any case: a slug may not match this.
RESERVED_SLUG_PATTERN = "^(?:" + "|".join(_any_case(name) for name in sorted(RESERVED_SLUGS)) + ")$"
