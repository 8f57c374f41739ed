"""Folding a vCard's long lines, as RFC 6350 section 3.2 (vCard 4.0) and RFC 2425 section
5.8.1 (vCard 3.0, through RFC 2426) ask: no line longer than 75 octets without its line
break; a longer one goes on in lines that start with one space, which a reader removes
together with the CRLF before it (unfolding).

segno writes each property on one line however long: an address or a company name in a
script of several bytes a character goes past 75 octets quickly, and strict readers (some
contact apps among them) cut or refuse such lines.
"""

from __future__ import annotations

__all__ = ("MAX_LINE_OCTETS", "fold_vcard")

#: The longest a line may be, in octets of UTF-8, without its CRLF.
MAX_LINE_OCTETS = 75
_BREAK = "\r\n"
#: A continuation line starts with this, which counts towards its 75 octets.
_CONTINUATION = " "


def _fold_line(line: str) -> str:
    """``line`` (without its CRLF) as one or more lines of at most 75 octets each.

    Breaks fall between characters, never inside one's UTF-8 sequence (RFC 6350: "multi-octet
    characters MUST remain contiguous"), and never between a backslash and the character it
    escapes: unfolding restores either, but a reader that splits first would see a lone
    backslash.
    """
    if len(line.encode()) <= MAX_LINE_OCTETS:
        return line
    lines: list[str] = []
    current: list[str] = []
    room = MAX_LINE_OCTETS
    used = 0
    index = 0
    while index < len(line):
        # An escape (backslash and the next character) is placed as one piece.
        end = index + 2 if line[index] == "\\" and index + 1 < len(line) else index + 1
        piece = line[index:end]
        size = len(piece.encode())
        if used + size > room:
            lines.append("".join(current))
            current, used = [_CONTINUATION], len(_CONTINUATION)
        current.append(piece)
        used += size
        index = end
    lines.append("".join(current))
    return _BREAK.join(lines)


def fold_vcard(card: str) -> str:
    """``card`` (CRLF lines) with every line longer than 75 octets folded.

    ``"NOTE:" + "x" * 80 + "\\r\\n"`` -> ``"NOTE:" + "x" * 70 + "\\r\\n " + "x" * 10 + "\\r\\n"``
    """
    return _BREAK.join(_fold_line(line) for line in card.split(_BREAK))
