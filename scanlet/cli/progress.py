"""Progress on stderr for long commands: items, rate and ETA when stderr is a terminal,
nothing in pipes, in logs or under ``--quiet``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from tqdm import tqdm

__all__ = ("Progress", "progress")


class Progress:
    """What a command reports as it goes; a no-op when the bar is off."""

    def __init__(self, bar: tqdm[NoReturn] | None) -> None:
        self._bar = bar

    @property
    def shown(self) -> bool:
        return self._bar is not None

    def total(self, total: int | None) -> None:
        """Set (or correct) how many items there are, once known."""
        if self._bar is not None:
            self._bar.total = total
            self._bar.refresh()

    def advance(self, items: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(items)

    def reach(self, done: int) -> None:
        """Move on to ``done`` (a position, such as the bytes of a file read so far)."""
        if self._bar is not None and done > self._bar.n:
            self._bar.update(done - self._bar.n)

    def note(self, text: str) -> None:
        """A short status beside the bar (e.g. the visits of an import)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)


@contextmanager
def progress(
    what: str, *, unit: str = "item", total: int | None = None, quiet: bool = False
) -> Iterator[Progress]:
    """A progress bar for ``what`` on stderr, shown only when stderr is a terminal and the
    command was not asked to be quiet."""
    if quiet or not sys.stderr.isatty():
        yield Progress(None)
        return
    bar: tqdm[NoReturn] = tqdm(
        desc=what, unit=unit, total=total, file=sys.stderr, unit_scale=True, leave=True
    )
    try:
        yield Progress(bar)
    finally:
        bar.close()
