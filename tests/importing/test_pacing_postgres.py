"""On PostgreSQL an import paces its commits while an instance serves the database: one of
them always holds the followers' lead, so the question is whether anybody does."""

from __future__ import annotations

import anyio
import pytest

from scanlet.assembly.importing import pacing_for
from scanlet.config import Settings
from tests.conftest import AnyStorage

pytestmark = pytest.mark.backends("postgresql")


async def test_an_import_paces_only_while_an_instance_holds_the_lead(
    storage: AnyStorage, db_settings: Settings
) -> None:
    asked = storage.leadership("import")
    alone = pacing_for(db_settings, None, asked)
    assert await alone.needed() is False
    assert alone.fit_commits is False
    server = storage.leadership("server-a")
    async with anyio.create_task_group() as tasks:
        await tasks.start(server.run)
        assert server.leading
        beside = pacing_for(db_settings, None, asked)
        assert await beside.needed() is True
        assert beside.fit_commits is False
        tasks.cancel_scope.cancel()
    with anyio.fail_after(10):
        # The lock goes with the session: its connection closes as the task ends.
        while await asked.leader() is not None:  # noqa: ASYNC110
            await anyio.sleep(0.05)
    assert await pacing_for(db_settings, None, asked).needed() is False
