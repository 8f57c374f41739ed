"""Look-alike hosts: mixed scripts and whole-script confusables are shown in ASCII."""

import pytest

from scanlet.actors.codes.lookalike import is_lookalike_host, shown_target, target_is_lookalike


@pytest.mark.parametrize(
    "host",
    [
        "\u0430pple.com",  # a Cyrillic a among Latin letters
        "p\u0430ypal.com",
        "g\u03bfogle.com",  # Greek omicron among Latin letters
        "\u0430\u0440\u0440\u04cf\u0435.com",  # "apple" all in Cyrillic look-alikes
        "\u0410\u0420\u0420\u04c0\u0415.com",  # the same in capitals (folded as browsers do)
        "\u0455\u0441\u043e\u0440\u0435.com",  # "scope" in Cyrillic
        "\u03bf\u03c1\u03b1.com",  # "opa" all in Greek look-alikes
        "\u03b1\u0440.com",  # Greek and Cyrillic together
        "xn--80ak6aa92e.com",  # the Cyrillic "apple" already in punycode
        "xn--pple-43d.com",
        "shop.\u0430pple.com",
        "\u0430pple1-2.com",
    ],
)
def test_mixed_script_and_whole_script_confusable_hosts_are_lookalikes(host: str) -> None:
    assert is_lookalike_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "example.com",
        "b\u00fccher.de",  # bücher
        "xn--bcher-kva.de",
        "\u4f8b\u3048.jp",  # 例え: Han and Hiragana, as Japanese is written
        "\u30c9\u30e1\u30a4\u30f3\u540d\u4f8b.jp",  # ドメイン名例: Katakana and Han
        "\u65e5\u672c\u8a9ecom.jp",  # 日本語com: Han with Latin
        "\ud55c\uad6d.kr",  # 한국
        "\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444",  # пример.рф
        "\u043f\u0440\u0438\u043c\u0435\u0440.com",  # has letters Latin lacks
        "\u03c0\u03b1\u03c1\u03ac\u03b4\u03b5\u03b9\u03b3\u03bc\u03b1.\u03b4\u03bf\u03ba\u03b9\u03bc\u03ae",
        "ma\u00f1ana.es",
        "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",  # fullwidth Latin: browsers narrow it
        "my_host.example",
        "\u2603.net",  # a symbol is no script
        "1.2.3.4",
        "::1",
        "123-456.example",
    ],
)
def test_ordinary_hosts_and_idns_are_not_lookalikes(host: str) -> None:
    assert not is_lookalike_host(host)


def test_a_lookalike_target_is_shown_with_its_host_in_ascii_and_the_rest_as_it_is() -> None:
    target = "https://\u0430pple.com:8443/caf\u00e9?q=\u00fc#top"
    assert target_is_lookalike(target)
    assert shown_target(target) == "https://xn--pple-43d.com:8443/caf\u00e9?q=\u00fc#top"
    assert shown_target("https://\u0410pple.COM./x") == "https://xn--pple-43d.com./x"


def test_other_targets_are_shown_exactly_as_stored() -> None:
    for target in ("https://b\u00fccher.de/", "https://Example.com/x", "http://[::1]:8000/"):
        assert not target_is_lookalike(target)
        assert shown_target(target) == target


def test_a_whole_script_confusable_under_a_tld_of_its_own_script_is_not_a_lookalike() -> None:
    pay = "\u0440\u0430\u0443"  # Cyrillic, reads as "pay"
    assert is_lookalike_host(f"{pay}.com")
    assert not is_lookalike_host(f"{pay}.\u0440\u0444")  # .рф
