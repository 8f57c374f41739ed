"""Shared fixtures: every async test runs on asyncio through anyio's pytest plugin."""

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# Property tests check behaviour, not speed: hypothesis's default 200 ms deadline per
# example and its "too slow" health check are timing assertions, and on a shared 2-core
# machine (or CI) they fail tests that are correct. In CI the examples are derandomized so
# a red run can be reproduced.
settings.register_profile(
    "scanlet",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "scanlet-ci",
    parent=settings.get_profile("scanlet"),
    derandomize=True,
)
settings.load_profile("scanlet-ci" if os.environ.get("CI") == "true" else "scanlet")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The common 0022 umask, under which a new file is world-readable unless its creator
    says otherwise: tests of file modes run under it so a stricter umask cannot hide a gap."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)
