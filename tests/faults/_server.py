"""The server under a fault: ``scanlet serve`` through ``served``, and what to read off it."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path

import httpx

from tests.faults._clients import SLUG
from tests.processes import Served, create_key, served

__all__ = ("database", "make_key", "metric", "rss_mb", "start", "wait_recovered")

# Stopping may take a drain of the mailboxes and the followers: more than served's default.
STOP_TIMEOUT = 60.0


def database(folder: Path) -> Path:
    """The database a scenario runs on, named outright (``SCANLET_DB``) so that one set in
    the caller's environment is never the one killed."""
    return folder / "scanlet.db"


def start(
    folder: Path,
    *,
    server: str,
    core: str | None,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
) -> AbstractContextManager[Served]:
    """``scanlet serve`` on ``folder``'s database, logging warnings and worse as JSON to
    ``folder/server.log``; ready when the block starts."""
    return served(
        folder,
        server=server,
        core=core,
        port=port,
        stop_timeout=STOP_TIMEOUT,
        env={
            "SCANLET_DB": str(database(folder)),
            "SCANLET_LOG_LEVEL": "warning",
            **(env or {}),
        },
    )


def make_key(folder: Path) -> str:
    """A write-scope API key on ``folder``'s database (through the CLI, as an operator
    would)."""
    env = {**os.environ, "SCANLET_DB": str(database(folder))}
    return create_key(folder, "write", env, name="faults")


def rss_mb(pid: int) -> float:
    """The resident set size of process ``pid`` in MB (0.0 when /proc does not say)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def metric(base: str, name: str, **labels: str) -> float:
    """The sum of the Prometheus samples ``name`` with ``labels`` on ``base``'s /metrics."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def wait_recovered(base: str) -> float:
    """Seconds until a redirect answers 302 and /readyz 200 again (at most about 60)."""
    started = time.monotonic()
    with httpx.Client(timeout=5.0) as client:
        for _ in range(600):
            try:
                scan = client.get(f"{base}/{SLUG}").status_code
                ready = client.get(f"{base}/readyz").status_code
                if scan == 302 and ready == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError("the server did not recover within 60 s")
