"""vCard line folding (RFC 6350 section 3.2, RFC 2425 section 5.8.1): no line over 75 octets,
continuations start with one space, UTF-8 sequences and escapes stay whole, and unfolding
gives the card back."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from scanlet.actors.codes.kinds import VcardContent
from scanlet.actors.codes.payloads import vcard_text
from scanlet.actors.codes.vcard_folding import MAX_LINE_OCTETS, fold_vcard


def unfold(card: str) -> str:
    """What a reader does first (RFC 6350 section 3.2): a CRLF and one space or tab vanish."""
    return re.sub(r"\r\n[ \t]", "", card)


def physical_lines(card: str) -> list[bytes]:
    return [line.encode() for line in card.split("\r\n")]


def test_short_lines_stay_as_they_are() -> None:
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:" + "x" * 72 + "\r\nEND:VCARD\r\n"
    assert len(physical_lines(card)[2]) == MAX_LINE_OCTETS
    assert fold_vcard(card) == card


def test_a_long_line_goes_on_in_lines_that_start_with_a_space() -> None:
    assert fold_vcard("NOTE:" + "x" * 80 + "\r\n") == (
        "NOTE:" + "x" * 70 + "\r\n " + "x" * 10 + "\r\n"
    )
    folded = fold_vcard("NOTE:" + "y" * 300)
    lines = physical_lines(folded)
    assert [len(line) for line in lines] == [75, 75, 75, 75, 9]  # 305 = 75 + 3 * 74 + 8
    assert all(line.startswith(b" ") for line in lines[1:])
    assert unfold(folded) == "NOTE:" + "y" * 300


def test_a_break_never_splits_a_multi_octet_character() -> None:
    # "ß" is two octets, "€" three and "𝄞" four: a break at octet 75 would fall inside some.
    for letter in ("ß", "€", "𝄞"):
        line = "ADR:;;" + letter * 60
        folded = fold_vcard(line)
        for physical in physical_lines(folded):
            assert len(physical) <= MAX_LINE_OCTETS
            physical.decode()  # each line is whole UTF-8 on its own (raises if split)
        assert unfold(folded) == line


def test_a_break_never_separates_a_backslash_from_what_it_escapes() -> None:
    # 74 octets, then an escaped comma: the pair moves to the next line whole.
    line = "ORG:" + "a" * 70 + "\\,b"
    folded = fold_vcard(line)
    assert folded == "ORG:" + "a" * 70 + "\r\n \\,b"
    assert unfold(folded) == line


@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=400))
def test_any_line_folds_within_the_limit_and_unfolds_to_itself(text: str) -> None:
    line = "NOTE:" + text.replace("\r", "").replace("\n", "")
    folded = fold_vcard(line)
    for physical in physical_lines(folded):
        assert len(physical) <= MAX_LINE_OCTETS
    assert unfold(folded) == line


def test_a_card_with_a_long_non_ascii_address_is_folded() -> None:
    address = "Königin-Luise-Straße 6-8, Gebäude Süd, 3. Obergeschoß, Zimmer 301, 14195 Berlin"
    card = vcard_text(VcardContent(name="Zoë Ångström", address=address))
    lines = physical_lines(card)
    assert max(len(line) for line in lines) <= MAX_LINE_OCTETS
    assert len(lines) > 7  # the address took more than one line
    street = address.replace(",", "\\,")  # vCard escapes a comma in a value
    assert unfold(card) == (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Ångström;Zoë\r\nFN:Zoë Ångström\r\n"
        f"ADR:;;{street};;;;\r\nEND:VCARD\r\n"
    )
