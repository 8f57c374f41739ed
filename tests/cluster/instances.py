"""Two ``scanlet serve`` processes on one PostgreSQL database: the fixture's pieces."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pg import PgDatabases
from tests.processes import Served, served

Cluster = tuple[Served, Served, str]


def wait_for(check: Callable[[], bool], what: str | Callable[[], str], limit: float = 15.0) -> None:
    """Wait until ``check()``; ``what`` names it (or tells, when called, how far it got)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"never happened: {what() if callable(what) else what}")


@pytest.fixture
def cluster(pg_databases: PgDatabases, tmp_path: Path) -> Iterator[Cluster]:
    url = pg_databases.create()
    shared = {
        "SCANLET_DB": url,
        "SCANLET_SECRET_FILE": str(tmp_path / "scanlet.key"),
        # Webhooks to a receiver on the loopback (the kill test's).
        "SCANLET_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    with (
        served(tmp_path / "a", env={**shared, "SCANLET_INSTANCE": "a"}) as a,
        served(tmp_path / "b", env={**shared, "SCANLET_INSTANCE": "b"}) as b,
    ):
        yield a, b, url


def readiness(instance: Served) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{instance.base}/readyz", timeout=5).json()
    return answer


def location(instance: Served, slug: str) -> str:
    """Where ``/slug`` redirects to, or its status and problem detail."""
    answer = httpx.get(f"{instance.base}/{slug}", timeout=5)
    if answer.status_code in (301, 302, 307, 308):
        return str(answer.headers["location"])
    return f"{answer.status_code} {answer.json().get('detail')}"
