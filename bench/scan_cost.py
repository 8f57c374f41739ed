"""CPU a scan costs in-process, plain against routed: what a rule list or a domain adds.

wrk's throughput on this shared 2-core machine drifts by 10 % between rounds, more than the
routing issue's (#15) 5 % goal; this measures the same thing with less noise. Three apps in
one process, each the scan path alone (SCANLET_FEATURES=none) on its own SQLite file:
"core" serves a plain code, "rules" a code of 10 routing rules whose last one matches (the
rules of bench/redirect.py), "domains" a code on a second domain named by every request's
Host header. Each block sends ``--concurrency`` scans at a time straight into the ASGI app
(no sockets, no HTTP parsing: what is left is Scanlet's own work and its group commit) and
takes the process's CPU time per scan; blocks alternate between the apps and each app's
fastest block is its figure (noise from elsewhere only ever adds time).
Run: python bench/scan_cost.py [--blocks 15] [--scans 4000] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parent))

from redirect import BENCH_DOMAIN, RULES

from scanlet.actors.access.keys import Scope
from scanlet.assembly import create_app
from scanlet.config import load_settings
from scanlet.http.app import ScanletApp

SLUG = "bench"
AGENT = b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
#: What each app's requests carry beyond the path: the same query for all (the routed one
#: matches its last rule by it, the others ignore it, as in bench/redirect.py); the domain
#: one names its host.
QUERIES = {"core": b"campaign=bench", "rules": b"campaign=bench", "domains": b"campaign=bench"}
HOSTS = {"core": b"qr.bench", "rules": b"qr.bench", "domains": BENCH_DOMAIN.encode()}


async def start(
    stack: AsyncExitStack, folder: Path, name: str, *, features: str = "none"
) -> ScanletApp:
    """An app of the scan path alone (or of ``features``), running, with the variant's code.

    Everything in this process: no worker process parses agents or folds the projection,
    so the process's CPU (or instructions) is all the work."""
    (folder / name).mkdir()
    settings = load_settings(
        {
            "SCANLET_DB": str(folder / name / "scanlet.db"),
            "SCANLET_BASE_URL": "http://qr.bench",
            "SCANLET_SECRET_FILE": str(folder / name / "scanlet.key"),
            "SCANLET_FEATURES": features,
            "SCANLET_AGENT_WORKER": "false",
            "SCANLET_PROJECTION_WORKER": "off",
            "SCANLET_LOG_LEVEL": "warning",
        },
        isatty=False,
    )
    app = create_app(settings, registry=CollectorRegistry())
    await stack.enter_async_context(app.router.lifespan_context(app))
    key = await app.state.services.keys.create("bench", Scope.ADMIN, now=datetime.now(UTC))
    headers = {"Authorization": f"Bearer {key.token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://qr.bench") as client:
        code: dict[str, object] = {"target": "https://example.com/landing", "slug": SLUG}
        if name == "rules":
            code["rules"] = RULES
        if name == "domains":
            made = await client.post(
                "/api/v1/domains", headers=headers, json={"host": BENCH_DOMAIN}
            )
            made.raise_for_status()
            code["domain"] = BENCH_DOMAIN
        (await client.post("/api/v1/codes", headers=headers, json=code)).raise_for_status()
    return app


def block_of(
    app: Callable[..., Awaitable[None]], slug: str, host: bytes, query: bytes = b"campaign=bench"
) -> Callable[[int, int], Awaitable[float]]:
    """``send(scans, concurrency)``: that many scans of ``slug`` straight into ``app``,
    ``concurrency`` at a time; the process's CPU seconds a scan (SystemExit unless every
    answer is a 302)."""

    def scope() -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": f"/{slug}",
            "raw_path": f"/{slug}".encode(),
            "query_string": query,
            "root_path": "",
            "headers": [(b"host", host), (b"user-agent", AGENT)],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }

    async def one() -> int:
        status = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope(), receive, send)
        return status

    async def send_scans(scans: int, concurrency: int) -> float:
        each = scans // concurrency
        statuses: list[int] = []

        async def client(count: int) -> None:
            statuses.extend([await one() for _ in range(count)])

        # The first client takes the remainder, so exactly ``scans`` are sent.
        counts = [each + scans % concurrency] + [each] * (concurrency - 1)
        started = time.process_time()
        await asyncio.gather(*(client(count) for count in counts if count))
        took = time.process_time() - started
        wrong = [s for s in statuses if s != 302]
        if wrong:
            raise SystemExit(f"{slug}: {len(wrong)} answers were not 302 (first {wrong[0]})")
        return took / len(statuses)

    return send_scans


_APPS: dict[str, Callable[[int, int], Awaitable[float]]] = {}


async def block(name: str, scans: int, concurrency: int) -> float:
    """CPU seconds per scan over ``scans`` scans, ``concurrency`` at a time."""
    return await _APPS[name](scans, concurrency)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=15)
    parser.add_argument("--scans", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        async with AsyncExitStack() as stack:
            for name in QUERIES:
                app = await start(stack, Path(tmp), name)
                _APPS[name] = block_of(app, SLUG, HOSTS[name], QUERIES[name])
            for name in QUERIES:  # warm-up: caches, the memo, the first commits
                await block(name, args.scans, args.concurrency)
            best = {name: float("inf") for name in QUERIES}
            for _ in range(args.blocks):
                for name in QUERIES:
                    best[name] = min(best[name], await block(name, args.scans, args.concurrency))
    for name, seconds in best.items():
        print(f"{name:8} {seconds * 1e6:7.1f} us CPU a scan (fastest of {args.blocks} blocks)")
    for name in ("rules", "domains"):
        print(f"ratio {name}/core: {best['core'] / best[name]:.3f} (as throughput: core = 1)")


if __name__ == "__main__":
    asyncio.run(main())
