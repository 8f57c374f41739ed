"""Every writer that moves a follower's position refuses, changing nothing, when the stored
position is not the one it read (``PositionMoved``): the analytics batch, the webhook
outbox's enqueue and its skip, with and without endpoints, on both backends."""

from datetime import UTC, datetime

import pytest

from scanlet.storage.ports import PositionMoved
from scanlet.storage.records import EndpointRow
from tests.conftest import AnyStorage

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


async def test_a_moved_position_is_never_moved_again_from_the_old_one(
    storage: AnyStorage,
) -> None:
    # A first batch stores each position; then "somebody else" is at 0 no more.
    await storage.analytics.apply("analytics", 0, 0, [], None)
    assert await storage.webhooks.skip_unless_endpoints("webhooks", 0, 0)
    for name in ("analytics", "webhooks"):
        assert await storage.positions.load(name) == 0
    with pytest.raises(PositionMoved):
        await storage.analytics.apply("analytics", 5, 9, [], None)
    with pytest.raises(PositionMoved):
        await storage.webhooks.skip_unless_endpoints("webhooks", 5, 9)
    with pytest.raises(PositionMoved):
        await storage.webhooks.enqueue("webhooks", 5, 9, lambda endpoints: [], NOW)
    await storage.webhooks.create_endpoint(
        EndpointRow(
            id="e1",
            url="https://hooks.example/",
            event_types=("scan.recorded",),
            secret="s" * 32,
            created_at=NOW,
            after_position=0,
        )
    )
    # With an endpoint the skip declines, and still says the position moved.
    with pytest.raises(PositionMoved):
        await storage.webhooks.skip_unless_endpoints("webhooks", 5, 9)
    assert not await storage.webhooks.skip_unless_endpoints("webhooks", 0, 9)
    for name in ("analytics", "webhooks"):
        assert await storage.positions.load(name) == 0
    # From where it is, each moves it.
    await storage.analytics.apply("analytics", 0, 0, [], None)
    assert await storage.webhooks.enqueue("webhooks", 0, 0, lambda endpoints: [], NOW) == 0
