"""A QR code drawn with text for a terminal: two module rows per line in Unicode half
blocks, in explicit black on white so it scans whatever the terminal's own colours.

The symbol is the one ``_layout`` draws for the same payload and error correction (segno
with the same arguments): only the medium differs.
"""

from __future__ import annotations

import segno

from scanlet.adapters.qr_images._options import Ecc

__all__ = ("terminal_lines",)

# Black text on a white background from the 256-colour palette (16 and 231 are pure black
# and white there; the 16 basic colours are themed by many terminals), then a reset.
_COLOURS = "\x1b[38;5;16;48;5;231m"
_RESET = "\x1b[0m"
# (top module dark, bottom module dark) -> the character that shows them.
_HALVES = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def terminal_lines(payload: str, ecc: Ecc = "M", border: int = 4) -> list[str]:
    """The code of ``payload`` as lines of half blocks, ``border`` modules of quiet zone
    around it; raises ValueError (segno's DataOverflowError) when it does not fit."""
    matrix = segno.make_qr(payload, error=ecc).matrix
    size = len(matrix)
    width = size + 2 * border

    def dark(row: int, col: int) -> bool:
        r, c = row - border, col - border
        return 0 <= r < size and 0 <= c < size and bool(matrix[r][c])

    lines = []
    for row in range(0, width, 2):
        cells = "".join(_HALVES[dark(row, col), dark(row + 1, col)] for col in range(width))
        lines.append(f"{_COLOURS}{cells}{_RESET}")
    return lines
