"""Where a QR symbol keeps its codewords, and so how large a logo error correction H can lose.

Hiding modules under a logo damages every codeword that has a bit there. Reed-Solomon
corrects up to half of a block's error-correction codewords when the damaged positions are
unknown, as they are to a scanner; codewords are interleaved across blocks, so the blocks
share the damage. The logo's box is the one holding the largest logo whose damage leaves
every block within ``LOGO_SHARE`` of what it can correct; the rest is kept for print and
camera errors.
The layout follows ISO/IEC 18004: function patterns, then codeword bits in two-module
columns zig-zagging up and down from the bottom-right corner.
"""

from __future__ import annotations

import functools
from typing import Any

from segno import consts

__all__ = (
    "LOGO_SHARE",
    "MIN_LOGO_MODULES",
    "alignment_centres",
    "centred_box",
    "codeword_map",
    "damaged_per_block",
    "logo_area",
)

#: Share of each block's correction capacity (half its EC codewords) a logo may use.
LOGO_SHARE = 0.7
#: A logo needs at least this many modules (its padding takes one) to be worth drawing.
MIN_LOGO_MODULES = 5


def alignment_centres(version: int) -> list[int]:
    """Row/column centres of the alignment patterns of ``version``, e.g. 7 -> [6, 22, 38]."""
    if version == 1:
        return []
    count = version // 7 + 2
    last = 4 * version + 10
    # Evenly spaced from the last one back towards 6, the spacing rounded up to an even
    # number (version 32 is the one exception in the standard's table).
    spacing = -(-(last - 6) // (count - 1))  # ceiling division
    step = 26 if version == 32 else spacing + spacing % 2
    return [6] + [last - step * i for i in range(count - 2, -1, -1)]


def _function_modules(version: int) -> set[tuple[int, int]]:
    size = 17 + 4 * version
    taken: set[tuple[int, int]] = set()
    # Finder patterns with separators, and the format information beside them.
    for r in range(9):
        for c in range(9):
            taken.add((r, c))
    for r in range(9):
        for c in range(size - 8, size):
            taken.add((r, c))
    for r in range(size - 8, size):
        for c in range(9):
            taken.add((r, c))
    for i in range(size):  # timing patterns
        taken.add((6, i))
        taken.add((i, 6))
    centres = alignment_centres(version)
    corners = {(6, 6), (6, centres[-1] if centres else 0), (centres[-1] if centres else 0, 6)}
    for r0 in centres:
        for c0 in centres:
            if (r0, c0) in corners:
                continue
            for r in range(r0 - 2, r0 + 3):
                for c in range(c0 - 2, c0 + 3):
                    taken.add((r, c))
    if version >= 7:  # version information, two 6x3 blocks
        for i in range(6):
            for j in range(size - 11, size - 8):
                taken.add((i, j))
                taken.add((j, i))
    return taken


@functools.cache
def codeword_map(version: int) -> tuple[tuple[int, ...], ...]:
    """For each module of a symbol of ``version``: the index of the codeword (in the
    interleaved final message) with a bit there, or -1 (function pattern, remainder bit)."""
    size = 17 + 4 * version
    taken = _function_modules(version)
    total = sum(n * ec.num_total for ec, n in _blocks(version, "M"))
    grid = [[-1] * size for _ in range(size)]
    bit = 0
    upwards = True
    col = size - 1
    while col > 0:
        if col == 6:  # the vertical timing pattern takes a whole column
            col -= 1
        rows = range(size - 1, -1, -1) if upwards else range(size)
        for row in rows:
            for c in (col, col - 1):
                if (row, c) not in taken:
                    if bit < total * 8:
                        grid[row][c] = bit // 8
                    bit += 1
        upwards = not upwards
        col -= 2
    return tuple(tuple(row) for row in grid)


def _blocks(version: int, ecc: str) -> list[tuple[Any, int]]:
    """segno's table of (num_blocks, num_total, num_data) groups for ``version`` at ``ecc``."""
    groups: list[Any] = consts.ECC[version][consts.ERROR_MAPPING[ecc]]  # type: ignore[index]
    return [(ec, ec.num_blocks) for ec in groups]


@functools.cache
def _block_of_codeword(version: int, ecc: str) -> tuple[int, ...]:
    """Block number of each codeword of the final message: data codewords interleaved
    block by block, then the error-correction codewords likewise."""
    sizes: list[tuple[int, int]] = []  # (data, ec) per block
    for ec, count in _blocks(version, ecc):
        sizes.extend([(ec.num_data, ec.num_total - ec.num_data)] * count)
    order: list[int] = []
    for i in range(max(data for data, _ in sizes)):
        order.extend(b for b, (data, _) in enumerate(sizes) if i < data)
    for _ in range(sizes[0][1]):
        order.extend(range(len(sizes)))
    return tuple(order)


def damaged_per_block(
    version: int, ecc: str, hidden: set[tuple[int, int]] | frozenset[tuple[int, int]]
) -> list[tuple[int, int]]:
    """(damaged codewords, correctable codewords) for each block when ``hidden`` modules are
    lost; correctable is half the block's error-correction codewords."""
    grid = codeword_map(version)
    owners = _block_of_codeword(version, ecc)
    damaged = {grid[r][c] for r, c in hidden if grid[r][c] >= 0}
    counts: dict[int, int] = {}
    for index in damaged:
        counts[owners[index]] = counts.get(owners[index], 0) + 1
    result: list[tuple[int, int]] = []
    block = 0
    for ec, count in _blocks(version, ecc):
        for _ in range(count):
            result.append((counts.get(block, 0), (ec.num_total - ec.num_data) // 2))
            block += 1
    return result


def centred_box(version: int, width: int, height: int) -> frozenset[tuple[int, int]]:
    """The modules of the ``width`` x ``height`` box in the middle of the symbol."""
    size = 17 + 4 * version
    top, left = (size - height) // 2, (size - width) // 2
    return frozenset((r, c) for r in range(top, top + height) for c in range(left, left + width))


def _fits(version: int, width: int, height: int) -> bool:
    blocks = damaged_per_block(version, "H", centred_box(version, width, height))
    return all(damaged <= LOGO_SHARE * capacity for damaged, capacity in blocks)


@functools.cache
def logo_area(version: int, aspect: float) -> tuple[int, int]:
    """(width, height) in modules of the centred box to clear for a logo of ``aspect``
    (width / height, rounded to two decimals by the caller): of the boxes error correction
    H can lose with ``LOGO_SHARE`` of its capacity, the one that holds the largest logo
    after half a module of padding around it. Odd sides, like the symbol's; (0, 0) when
    no box of at least MIN_LOGO_MODULES a side fits."""
    size = 17 + 4 * version
    sides = range(MIN_LOGO_MODULES, size // 2, 2)
    best, best_area = (0, 0), 0.0
    for height in sides:
        if not _fits(version, MIN_LOGO_MODULES, height):
            break
        for width in sides:
            if not _fits(version, width, height):
                break
            w, h = width - 1.0, height - 1.0
            logo_w, logo_h = (w, w / aspect) if w / aspect <= h else (h * aspect, h)
            if logo_w * logo_h > best_area:
                best, best_area = (width, height), logo_w * logo_h
    return best
