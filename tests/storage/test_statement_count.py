"""The database statements an instance sends are counted (PostgreSQL), for /metrics."""

import anyio
import pytest

from tests.conftest import AnyStorage

pytestmark = pytest.mark.anyio


async def test_every_statement_sent_is_counted(storage: AnyStorage, backend: str) -> None:
    before = storage.statements_run()
    if backend == "sqlite":
        assert before is None
        return
    assert before is not None
    await storage.ping()
    await storage.ping()
    # asyncpg hands each statement to its loggers with call_soon: let them run.
    await anyio.sleep(0.01)
    after = storage.statements_run()
    # One statement each: no reset query when the connection goes back to the pool.
    assert after == before + 2
