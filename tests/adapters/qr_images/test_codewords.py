"""The codeword layout that sizes logos, checked against the standard's own numbers."""

from __future__ import annotations

import pytest
from segno import consts

from scanlet.adapters.qr_images._codewords import (
    LOGO_SHARE,
    _function_modules,
    alignment_centres,
    centred_box,
    codeword_map,
    damaged_per_block,
    logo_area,
)

REMAINDER_BITS = dict.fromkeys(range(2, 7), 7) | {
    **dict.fromkeys(range(14, 21), 3),
    **dict.fromkeys(range(21, 28), 4),
    **dict.fromkeys(range(28, 35), 3),
}


@pytest.mark.parametrize("version", range(2, 41))
def test_alignment_centres_match_the_standards_table(version: int) -> None:
    assert tuple(alignment_centres(version)) == tuple(consts.ALIGNMENT_POS[version - 2])


@pytest.mark.parametrize("version", range(1, 41))
def test_every_codeword_has_eight_modules_and_the_rest_are_remainder_bits(version: int) -> None:
    grid = codeword_map(version)
    groups = consts.ECC[version][consts.ERROR_LEVEL_H]  # type: ignore[index]
    total = sum(ec.num_blocks * ec.num_total for ec in groups)
    counts: dict[int, int] = {}
    for row in grid:
        for index in row:
            if index >= 0:
                counts[index] = counts.get(index, 0) + 1
    assert sorted(counts) == list(range(total))
    assert set(counts.values()) == {8}
    # What is neither a function pattern nor a codeword is the standard's remainder bits.
    size = 17 + 4 * version
    remainder = size * size - len(_function_modules(version)) - 8 * total
    assert remainder == REMAINDER_BITS.get(version, 0)


def test_a_hidden_codeword_is_charged_to_its_own_block() -> None:
    # Version 5-H has 4 blocks; the first codeword of the message is block 0's first.
    grid = codeword_map(5)
    first = {(r, c) for r, row in enumerate(grid) for c, i in enumerate(row) if i == 0}
    assert len(first) == 8
    damage = damaged_per_block(5, "H", first)
    assert [d for d, _ in damage] == [1, 0, 0, 0]


@pytest.mark.parametrize("version", range(1, 15))
@pytest.mark.parametrize("aspect", [1.0, 2.5, 0.4])
def test_logo_areas_stay_within_the_share_of_h(version: int, aspect: float) -> None:
    width, height = logo_area(version, aspect)
    assert width % 2 == height % 2 == 1
    for damaged, capacity in damaged_per_block(version, "H", centred_box(version, width, height)):
        assert damaged <= LOGO_SHARE * capacity
