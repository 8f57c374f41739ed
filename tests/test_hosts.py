"""Host names read one way everywhere: IPv4 spellings, IDNA forms, one canonical spelling."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanlet.hosts import (
    HOST_PATTERN,
    canonical_host,
    ends_in_a_number,
    host_labels,
    is_valid_host,
    parse_ipv4,
)


@pytest.mark.parametrize(
    ("host", "canonical"),
    [
        ("qr.example.com", "qr.example.com"),
        ("QR.Example.COM.", "qr.example.com"),
        ("\uff51\uff52.example.com", "qr.example.com"),  # fullwidth letters, as browsers map
        ("Bücher.DE", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("faß.de", "xn--fa-hia.de"),  # non-transitional, as browsers now are
        ("my_host.example", "my_host.example"),
        ("☃.net", "xn--n3h.net"),  # IDNA 2008 refuses it, browsers do not
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("[0:0::1]", "::1"),
        ("::FFFF:7f00:1", "::ffff:7f00:1"),
    ],
)
def test_a_host_has_one_canonical_spelling(host: str, canonical: str) -> None:
    assert canonical_host(host) == canonical


def test_host_labels_give_both_forms_of_each_label() -> None:
    labels = host_labels("Bücher.xn--r8jz45g.JP.")
    assert [(label.text, label.ascii) for label in labels] == [
        ("bücher", "xn--bcher-kva"),
        ("例え", "xn--r8jz45g"),
        ("jp", "jp"),
    ]


def test_an_invalid_a_label_is_kept_as_it_is() -> None:
    (label,) = host_labels("xn--zz")
    assert (label.text, label.ascii) == ("xn--zz", "xn--zz")


@pytest.mark.parametrize(
    ("host", "numeric"),
    [("1.2.3.4", True), ("example.0x1", True), ("example.com", False), ("1.2.3.4a", False)],
)
def test_a_host_ends_in_a_number_when_its_last_label_is_numeric(host: str, numeric: bool) -> None:
    assert ends_in_a_number(host) is numeric


@given(st.from_regex(f"^{HOST_PATTERN}$", fullmatch=True))
def test_every_host_the_documented_pattern_matches_is_valid_and_never_a_bad_number(
    host: str,
) -> None:
    assert is_valid_host(host.lower())
    assert not ends_in_a_number(host) or parse_ipv4(host) is not None


@pytest.mark.parametrize(
    "host", ["", ".", "a..b", "a b", "a!b", "a/b", "fe80::1%eth0", "::zz", "ex\u00e4mple\u0301.de"]
)
def test_hosts_that_cannot_be_are_refused(host: str) -> None:
    assert not is_valid_host(host)


@pytest.mark.parametrize(
    "host", ["example.com", "example.com.", "bücher.de", "my_host.example", "::1", "127.0.0.1"]
)
def test_names_in_any_script_addresses_and_a_trailing_dot_are_valid_hosts(host: str) -> None:
    assert is_valid_host(host)
