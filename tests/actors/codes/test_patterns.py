"""The documented patterns of a code's fields say what the validators accept.

Generated requests (schemathesis) are drawn from these patterns, so every string a pattern
matches must pass its validator, and every character a pattern refuses must be refused by
the validator too. Drawn from the Basic Multilingual Plane, which the patterns describe.
"""

import re
import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanlet.actors.codes.code import Code
from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.kinds import TextContent, check_content
from scanlet.actors.codes.origins import OwnOrigins
from scanlet.actors.codes.patterns import (
    MULTI_LINE_PATTERN,
    RESERVED_SLUG_PATTERN,
    TAG_PATTERN,
    TARGET_PATTERN,
    TITLE_PATTERN,
    bmp_ranges,
)
from scanlet.actors.codes.rules import check_code
from scanlet.actors.codes.validation import (
    MAX_TARGET_LENGTH,
    REFUSED_IN_TARGET,
    RESERVED_SLUGS,
    SLUG_PATTERN,
    UNPRINTABLE,
    validate_slug,
    validate_target,
)

BMP = st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"])
NOW = datetime(2026, 1, 1, tzinfo=UTC)
OWN = OwnOrigins(["http://qr.test"])


def matching(pattern: str) -> st.SearchStrategy[str]:
    return st.from_regex(pattern, fullmatch=True, alphabet=BMP)


def code(**fields: object) -> Code:
    values: dict[str, object] = {
        "slug": "menu",
        "target": "https://example.com/",
        "title": None,
        "tags": (),
        "enabled": True,
        "valid_from": None,
        "valid_until": None,
        "max_scans": None,
        "redirect_status": 302,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return Code(**values)  # type: ignore[arg-type]


def in_table(categories: frozenset[str]) -> set[int]:
    return {c for low, high in bmp_ranges(categories) for c in range(low, high + 1)}


@pytest.mark.parametrize("categories", [REFUSED_IN_TARGET, UNPRINTABLE])
def test_the_character_table_is_exactly_the_refused_categories_of_the_bmp(
    categories: frozenset[str],
) -> None:
    expected = {
        c
        for c in range(0x10000)
        if not 0xD800 <= c <= 0xDFFF and unicodedata.category(chr(c)) in categories
    }
    assert in_table(categories) == expected


@given(matching(TARGET_PATTERN))
def test_every_target_the_pattern_matches_is_valid(target: str) -> None:
    if len(target) <= MAX_TARGET_LENGTH:
        assert validate_target(target) == target


def test_every_character_the_target_pattern_refuses_is_refused() -> None:
    for point in in_table(REFUSED_IN_TARGET) | {ord("\\")}:
        target = f"https://example.com/a{chr(point)}b"
        assert not re.search(TARGET_PATTERN, target), hex(point)
        with pytest.raises(InvalidField):
            validate_target(target)


@pytest.mark.parametrize(
    "target",
    [
        "https://example.com/",
        "HTTP://Example.COM.:8080/a?b#c",
        "http://1.2.3.4:0065535/",
        "https://my_service.example/@user",
        "https://de.wikipedia.org/wiki/Straße",
    ],
)
def test_usual_targets_match_the_pattern(target: str) -> None:
    assert re.search(TARGET_PATTERN, target)


@pytest.mark.parametrize(
    "target",
    ["ftp://e.com/", "https://user@e.com/", "https://e.com:65536/", "https://a..b/", "https://"],
)
def test_refused_targets_do_not_match_the_pattern(target: str) -> None:
    assert not re.search(TARGET_PATTERN, target)
    with pytest.raises(InvalidField):
        validate_target(target)


@given(matching(TITLE_PATTERN).filter(lambda t: len(t) <= 200))
def test_every_title_the_pattern_matches_is_accepted(title: str) -> None:
    assert check_code(code(title=title), OWN, target_is_new=True).title == title


@given(matching(TAG_PATTERN).filter(lambda t: len(t) <= 64))
def test_every_tag_the_pattern_matches_is_accepted(tag: str) -> None:
    assert check_code(code(tags=(tag,)), OWN, target_is_new=True).tags == (tag.strip(),)


def test_every_character_the_text_patterns_refuse_is_refused() -> None:
    for point in in_table(UNPRINTABLE):
        text = f"a{chr(point)}b"
        assert not re.search(TITLE_PATTERN, text), hex(point)
        assert not re.search(TAG_PATTERN, text), hex(point)
        with pytest.raises(InvalidField):
            check_code(code(title=text), OWN, target_is_new=True)
        with pytest.raises(InvalidField):
            check_code(code(tags=(text,)), OWN, target_is_new=True)


@pytest.mark.parametrize("tag", ["", " ", "\u3000", " \u00a0 "])
def test_a_tag_of_spaces_matches_neither_pattern_nor_rule(tag: str) -> None:
    assert not re.search(TAG_PATTERN, tag)
    with pytest.raises(InvalidField):
        check_code(code(tags=(tag,)), OWN, target_is_new=True)


@given(matching(SLUG_PATTERN))
def test_a_slug_of_the_pattern_is_valid_unless_the_reserved_pattern_matches(slug: str) -> None:
    if re.search(RESERVED_SLUG_PATTERN, slug):
        with pytest.raises(InvalidField):
            validate_slug(slug, RESERVED_SLUGS)
    else:
        assert validate_slug(slug, RESERVED_SLUGS) == slug


@pytest.mark.parametrize("name", sorted(RESERVED_SLUGS))
def test_every_reserved_name_in_any_case_matches_the_reserved_pattern(name: str) -> None:
    for spelling in (name, name.upper(), name.title()):
        assert re.search(RESERVED_SLUG_PATTERN, spelling)
    assert not re.search(RESERVED_SLUG_PATTERN, name + "x")


@given(matching(MULTI_LINE_PATTERN).filter(lambda t: 1 <= len(t) <= 1000))
def test_every_text_the_multi_line_pattern_matches_is_accepted(text: str) -> None:
    assert check_content(TextContent(text=text)) == TextContent(text=text)


def test_every_character_the_multi_line_pattern_refuses_is_refused() -> None:
    for point in in_table(UNPRINTABLE):
        text = f"a{chr(point)}b"
        if chr(point) in "\t\n\r":
            assert re.search(MULTI_LINE_PATTERN, text)
            continue
        assert not re.search(MULTI_LINE_PATTERN, text), hex(point)
        with pytest.raises(InvalidField):
            check_content(TextContent(text=text))
