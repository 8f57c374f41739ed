import contextlib
import pickle
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanlet.actors.codes.errors import CodeError, CodeNotFound, InvalidField, SlugTaken
from scanlet.actors.codes.validation import (
    MAX_TARGET_LENGTH,
    RESERVED_SLUGS,
    SLUG_ALPHABET,
    generate_slug,
    validate_slug,
    validate_target,
)

GOOD_TARGETS = [
    "https://example.com",
    "http://example.com/",
    "HTTPS://Example.COM/Path?q=1#frag",
    "https://example.com:8443/a/b;c?d=e&f=g",
    "https://sub.domain.example.co.uk./trailing-dot",
    "http://127.0.0.1:8080/x",
    "http://[::1]/",
    "http://[2001:db8::1]:80/path",
    "https://de.wikipedia.org/wiki/Straße",
    "https://bücher.example/",
    "https://my_service.example.com/",
    "https://example.com/%20encoded%0A",
    "https://localhost",
]


@pytest.mark.parametrize("target", GOOD_TARGETS)
def test_valid_targets_are_returned_unchanged(target: str) -> None:
    assert validate_target(target) == target


def test_a_target_of_exactly_the_maximum_length_is_accepted() -> None:
    target = "https://example.com/" + "a" * (MAX_TARGET_LENGTH - len("https://example.com/"))
    assert validate_target(target) == target


BAD_TARGETS = [
    "",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://example.com/file",
    "file:///etc/passwd",
    "mailto:someone@example.com",
    "example.com",
    "//example.com/path",
    "/relative/path",
    "https://",
    "https:///path-only",
    "https://:443/",
    "http:example.com",
    "https://user:pass@example.com/",
    "https://user@example.com/",
    "https://bank.example@evil.example/",
    "https://example.com\\@evil.example/",
    "https:\\\\example.com",
    "https://example.com/a b",
    " https://example.com",
    "https://example.com/\t",
    "https://example.com/\n",
    "https://example.com/\r\nSet-Cookie: x=1",
    "https://example.com/\x00",
    "https://example.com/\x1f",
    "https://example.com/\x7f",
    "https://example.com/\x85",
    "https://example.com/\u2028",
    "https://example.com/\u2029",
    "https://example.com/\u00a0",
    "https://example.com/\u202egnp.exe",
    "https://exa\u200bmple.com/",
    "https://example.com/\ud800",
    "https://example.com:notaport/",
    "https://example.com:99999/",
    "https://[::1/",
    "https://[not-an-ip]/",
    "https://[fe80::1%25eth0]/",
    "https://exa$mple.com/",
    "https://a..b/",
    "https://%65xample.com/",
    "https://example.com/" + "a" * MAX_TARGET_LENGTH,
]


@pytest.mark.parametrize("target", BAD_TARGETS)
def test_invalid_targets_raise_invalid_field_naming_target(target: str) -> None:
    with pytest.raises(InvalidField) as info:
        validate_target(target)
    assert info.value.field == "target"
    assert info.value.msg


@given(st.text())
def test_no_string_makes_validate_target_raise_anything_but_invalid_field(value: str) -> None:
    with contextlib.suppress(InvalidField):
        validate_target(value)


@st.composite
def url_like(draw: st.DrawFn) -> str:
    """Strings shaped like URLs, so the property below sees many accepted ones."""
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "ftp", "javascript", ""]))
    sep = draw(st.sampled_from(["://", ":", ":///", "//"]))
    userinfo = draw(st.sampled_from(["", "", "", "u@", "u:p@"]))
    host = draw(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True) | st.text(max_size=8))
    port = draw(st.sampled_from(["", "", ":80", ":65535", ":0", ":x"]))
    rest = draw(st.text(max_size=40))
    return f"{scheme}{sep}{userinfo}{host}{port}/{rest}"


@given(url_like() | st.text())
def test_every_accepted_target_parses_as_http_with_a_host(value: str) -> None:
    try:
        validate_target(value)
    except InvalidField:
        return
    parts = urlsplit(value)
    assert parts.scheme.lower() in {"http", "https"}
    assert parts.hostname
    assert parts.username is None
    assert parts.password is None
    assert not any(c.isspace() for c in value)


@pytest.mark.parametrize("slug", ["a", "Z", "9", "-", "_", "my-code_2024", "x" * 64, "Queue"])
def test_valid_slugs_are_returned_unchanged(slug: str) -> None:
    assert validate_slug(slug, RESERVED_SLUGS) == slug


@pytest.mark.parametrize(
    "slug",
    ["", "x" * 65, "a b", "a/b", "a.b", "a%20b", "ünï", "a\n", "a\x00", "\u0661", "..", "a+b"],
)
def test_malformed_slugs_raise_invalid_field_naming_slug(slug: str) -> None:
    with pytest.raises(InvalidField) as info:
        validate_slug(slug, RESERVED_SLUGS)
    assert info.value.field == "slug"


@pytest.mark.parametrize("slug", ["api", "API", "Dashboard", "q", "Q", "livez", "METRICS"])
def test_reserved_slugs_are_refused_whatever_their_case(slug: str) -> None:
    with pytest.raises(InvalidField, match="reserved") as info:
        validate_slug(slug, RESERVED_SLUGS)
    assert info.value.field == "slug"


def test_reserved_names_given_in_mixed_case_still_match() -> None:
    with pytest.raises(InvalidField):
        validate_slug("promo", frozenset({"PROMO"}))


def test_every_top_level_route_name_is_reserved() -> None:
    routes = {"api", "livez", "readyz", "metrics", "docs", "dashboard", "static", "q"}
    assert routes <= RESERVED_SLUGS
    assert {"health", "login", "logout", "admin"} <= RESERVED_SLUGS


def test_reserved_names_are_all_slug_shaped_and_lower_case() -> None:
    for name in RESERVED_SLUGS:
        assert validate_slug(name, frozenset()) == name
        assert name == name.lower()


@given(st.text(), st.frozensets(st.text(max_size=5), max_size=5))
def test_no_string_makes_validate_slug_raise_anything_but_invalid_field(
    value: str, reserved: frozenset[str]
) -> None:
    with contextlib.suppress(InvalidField):
        validate_slug(value, reserved)


def test_slug_alphabet_has_no_look_alike_characters() -> None:
    assert not set("0O1lI") & set(SLUG_ALPHABET)
    assert len(SLUG_ALPHABET) == len(set(SLUG_ALPHABET)) == 57


@given(st.integers(min_value=1, max_value=64))
def test_generated_slugs_always_validate_and_have_the_requested_length(length: int) -> None:
    slug = generate_slug(length)
    assert len(slug) == length
    assert set(slug) <= set(SLUG_ALPHABET)
    assert validate_slug(slug, RESERVED_SLUGS) == slug


def test_generated_slugs_default_to_eight_characters() -> None:
    assert len(generate_slug()) == 8


def test_ten_thousand_generated_slugs_are_distinct() -> None:
    slugs = [generate_slug() for _ in range(10_000)]
    assert len(set(slugs)) == len(slugs)


def test_one_character_slugs_never_come_out_reserved() -> None:
    # "q" and "Q" are in the alphabet; the generator must draw again when it hits them.
    for _ in range(2_000):
        assert generate_slug(1).lower() != "q"


@pytest.mark.parametrize("length", [0, -1, 65])
def test_generating_a_slug_of_impossible_length_is_a_value_error(length: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 64"):
        generate_slug(length)


def test_code_errors_share_one_base_and_carry_their_details() -> None:
    invalid = InvalidField("slug", "is reserved")
    assert isinstance(invalid, CodeError)
    assert (invalid.field, invalid.msg) == ("slug", "is reserved")
    assert str(invalid) == "slug: is reserved"
    assert isinstance(SlugTaken("abc"), CodeError)
    assert SlugTaken("abc").slug == "abc"
    assert "abc" in str(CodeNotFound("abc"))


@pytest.mark.parametrize(
    "error", [InvalidField("target", "must have a host"), SlugTaken("x"), CodeNotFound("y")]
)
def test_code_errors_survive_pickling(error: CodeError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)
