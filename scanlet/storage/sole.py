"""Leadership and change notices for a database only one instance uses (SQLite's case):
that instance always leads, and there is nobody to tell anything."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import anyio
from anyio.abc import TaskStatus

__all__ = ("QuietFeed", "SoleLeadership")


class SoleLeadership:
    """The only instance leads from the start and for good."""

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.leading = True
        self.terms = 1

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Nothing to contend for."""
        task_status.started()

    async def wait_leading(self) -> None:
        """Leading already."""

    async def wait_lost(self) -> None:
        """Never returns: nobody else can take the lead."""
        await anyio.sleep_forever()

    async def leader(self) -> str | None:
        """This instance."""
        return self.instance


class QuietFeed:
    """No other instance to hear from or tell."""

    async def run(
        self,
        on_codes: Callable[[Sequence[str]], None],
        on_log: Callable[[], None],
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Nothing to listen to."""
        task_status.started()
