"""qr_facts, and the alphanumeric payload that makes a smaller code for the same link."""

from __future__ import annotations

import pytest
import segno

from scanlet.adapters.qr_images import alphanumeric_payload, compact_payload, qr_facts


@pytest.mark.parametrize(
    ("payload", "facts"),
    [("HELLO", (1, 21)), ("https://qr.example.com/q/Ab3xYz9k", (3, 29)), ("x" * 100, (6, 41))],
)
def test_qr_facts_give_version_and_modules(payload: str, facts: tuple[int, int]) -> None:
    assert qr_facts(payload) == facts
    qr = segno.make_qr(payload, error="M")
    assert facts == (qr.version, qr.symbol_size(border=0)[0])


def test_qr_facts_follow_the_error_correction_level() -> None:
    assert qr_facts("https://qr.example.com/q/Ab3xYz9k", "H")[0] > 3


@pytest.mark.parametrize(
    ("base_url", "slug", "payload"),
    [
        ("https://qr.example.com", "menu-2", "HTTPS://QR.EXAMPLE.COM/Q/MENU-2"),
        ("http://127.0.0.1:8000", "Ab3xYz9k", "HTTP://127.0.0.1:8000/Q/AB3XYZ9K"),
        ("https://qr.example.com/", "x", "HTTPS://QR.EXAMPLE.COM/Q/X"),
        ("https://xn--bcher-kva.de", "a", "HTTPS://XN--BCHER-KVA.DE/Q/A"),
    ],
)
def test_alphanumeric_payloads_upper_case_the_link(base_url: str, slug: str, payload: str) -> None:
    assert alphanumeric_payload(base_url, slug) == payload
    assert segno.make_qr(payload, error="M").mode == "alphanumeric"


@pytest.mark.parametrize(
    ("base_url", "slug"),
    [
        ("https://qr.example.com", "under_score"),  # "_" is not alphanumeric-mode
        ("https://qr.example.com/links", "a"),  # a path may be case-sensitive
        ("https://qr.example.com?x=1", "a"),
        ("https://user@qr.example.com", "a"),
        ("http://[::1]:8000", "a"),
        ("https://bücher.de", "a"),
        ("ftp://qr.example.com", "a"),
        ("https://qr.example.com", ""),
    ],
)
def test_no_alphanumeric_payload_where_upper_case_would_change_the_link(
    base_url: str, slug: str
) -> None:
    assert alphanumeric_payload(base_url, slug) is None


def test_the_compact_payload_saves_a_version() -> None:
    compact = compact_payload("https://qr.example.com", "Ab3xYz9k")
    assert compact is not None
    assert compact.payload == "HTTPS://QR.EXAMPLE.COM/Q/AB3XYZ9K"
    assert (compact.usual_version, compact.usual_modules) == (3, 29)
    assert (compact.version, compact.modules) == (2, 25)
    assert compact.versions_saved == 1
    assert segno.make_qr(compact.payload, error="M").mode == "alphanumeric"
    assert segno.make_qr("https://qr.example.com/q/Ab3xYz9k", error="M").mode == "byte"


def test_the_byte_mode_table_agrees_with_segno_on_both_sides_of_every_step() -> None:
    from scanlet.adapters.qr_images import _facts

    # A version only grows with the length, so agreeing with segno at the first length and
    # at the last and first length of every version agrees at every length between (segno at
    # each of the 2,331 lengths took minutes of CI for the same proof).
    steps = [1]
    for capacity in _facts._BYTE_CAPACITY_M:
        steps += [capacity, capacity + 1]
    for length in steps[:-1]:  # past version 40's capacity no code can be drawn
        payload = ("https://q.example/" + "a" * length)[:length]
        expected = _facts._segno_facts(payload, "M")
        assert _facts.qr_facts(payload, "M") == expected, length


def test_the_alphanumeric_table_agrees_with_segno_at_each_versions_edges() -> None:
    from scanlet.adapters.qr_images import _facts

    # The version grows with the length, so agreeing at the last length of each version and
    # the first of the next is agreeing at every length (80 segno runs instead of 3391).
    lengths = {1}
    for capacity in _facts._ALPHANUMERIC_CAPACITY_M:
        lengths |= {capacity, min(capacity + 1, 3391)}
    for length in sorted(lengths):
        payload = ("HTTPS://Q.EXAMPLE/Q/" + "A" * length)[:length]
        expected = _facts._segno_facts(payload, "M")
        assert _facts.qr_facts(payload, "M") == expected, length
