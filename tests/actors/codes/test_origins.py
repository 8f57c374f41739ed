"""A code must not redirect to the server's own origin, however the origin is spelled."""

import pytest

from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.origins import OwnOrigins

PUBLIC = OwnOrigins(["https://qr.example.com"])
LOCAL = OwnOrigins(["http://127.0.0.1:8000"])


@pytest.mark.parametrize(
    "target",
    [
        "https://qr.example.com/menu",
        "https://qr.example.com",
        "https://QR.Example.COM/menu",
        "HTTPS://qr.example.com/menu",
        "https://qr.example.com./menu",
        "https://qr.example.com:443/menu",
        "https://\uff51\uff52.example.com/menu",  # fullwidth letters: browsers go to qr.
        # Plain HTTP on the same host redirects to the https origin in every usual set-up.
        "http://qr.example.com/menu",
        "http://qr.example.com:80/q/menu",
    ],
)
def test_a_target_on_the_public_origin_is_own(target: str) -> None:
    assert PUBLIC.holds(target)
    with pytest.raises(InvalidField) as refused:
        PUBLIC.check_target(target)
    assert refused.value.field == "target"
    assert "https://qr.example.com" in refused.value.msg


@pytest.mark.parametrize(
    "target",
    [
        "https://qr.example.com:8443/menu",
        "http://qr.example.com:8080/menu",
        "https://example.com/menu",
        "https://menu.qr.example.com/",
        "https://qr.example.com.evil.example/",
        "https://xn--qr-example.com/",
    ],
)
def test_other_origins_are_not_own(target: str) -> None:
    assert not PUBLIC.holds(target)
    PUBLIC.check_target(target)


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:8000/menu",
        "http://2130706433:8000/menu",
        "http://0x7f.1:8000/menu",
        "http://0177.0.0.1:8000/menu",
        "http://127.1:8000/menu",
    ],
)
def test_an_ip_origin_is_own_in_any_ipv4_spelling(target: str) -> None:
    assert LOCAL.holds(target)


def test_an_ip_origin_on_another_port_or_scheme_is_not_own() -> None:
    assert not LOCAL.holds("http://127.0.0.1/menu")
    assert not LOCAL.holds("https://127.0.0.1:8000/menu")


def test_ipv6_and_unicode_origins_compare_in_their_normal_forms() -> None:
    assert OwnOrigins(["http://[::1]:8000"]).holds("http://[0:0::1]:8000/x")
    idn = OwnOrigins(["https://xn--bcher-kva.example"])
    assert idn.holds("https://Bücher.example/x")
    assert OwnOrigins(["https://bücher.example"]).holds("https://xn--bcher-kva.example/x")


def test_every_origin_of_a_collection_is_own() -> None:
    both = OwnOrigins(["https://qr.example.com", "https://go.example.org"])
    assert both.holds("https://go.example.org/menu")
    assert both.holds("https://qr.example.com/menu")
    assert not both.holds("https://example.org/")
