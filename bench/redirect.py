"""Redirect throughput: Scanlet (durable scan recording) against a bare redirecting app.

Both servers are pinned to one core and driven alternately by wrk from the other core; the
bare app (a dict lookup and a 302, recording nothing) runs on granian, the fastest ASGI
server measured for it (bench/servers.py). Afterwards every redirect wrk counted as answered
must be in Scanlet's event log. Run: python bench/redirect.py [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

import httpx
from harness import WrkResult, create_key, free_port, pinned_server, run_wrk

SLUG = "bench"


def stored_scans(db: Path) -> int:
    """Scans of the benchmark slug committed to the database file."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'scan.recorded' AND slug = ?", (SLUG,)
        ).fetchone()
    return int(row[0])


def line(name: str, result: WrkResult) -> str:
    """One printed row."""
    return (
        f"{name:8} {result.rps:9.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
        f"p99 {result.p99_ms:6.2f} ms  errors {result.errors}"
    )


def main() -> None:
    """Alternate bare and Scanlet, print medians, the ratio, and the durability check."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    here = Path(__file__).parent
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "bench.db"
        env = {"SCANLET_DB": str(db), "SCANLET_LOG_LEVEL": "warning"}
        token = create_key(env)
        scanlet_port, bare_port = free_port(), free_port()
        scanlet_argv = [sys.executable, "-m", "scanlet", "serve", "--port", str(scanlet_port)]
        bare_argv = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--port",
            str(bare_port),
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--log-level",
            "warning",
            "--no-ws",
            "bare_app:app",
        ]
        scanlet_url = f"http://127.0.0.1:{scanlet_port}"
        bare_url = f"http://127.0.0.1:{bare_port}"
        results: dict[str, list[WrkResult]] = {"bare": [], "scanlet": []}
        with (
            pinned_server(scanlet_argv, env=env, cwd=folder, ready_url=f"{scanlet_url}/livez"),
            pinned_server(bare_argv, cwd=here, ready_url=f"{bare_url}/{SLUG}"),
        ):
            created = httpx.post(
                f"{scanlet_url}/api/v1/codes",
                headers={"Authorization": f"Bearer {token}"},
                json={"target": "https://example.com/landing", "slug": SLUG},
            )
            created.raise_for_status()
            for _ in range(args.rounds):
                for name, url in (("bare", bare_url), ("scanlet", scanlet_url)):
                    result = run_wrk(
                        f"{url}/{SLUG}", seconds=args.seconds, connections=args.connections
                    )
                    results[name].append(result)
                    print(line(name, result), flush=True)
        answered = sum(r.requests - r.errors for r in results["scanlet"])
        stored = stored_scans(db)
    median = {name: statistics.median(r.rps for r in rs) for name, rs in results.items()}
    p50 = {name: statistics.median(r.p50_ms for r in rs) for name, rs in results.items()}
    p99 = {name: statistics.median(r.p99_ms for r in rs) for name, rs in results.items()}
    print(f"median req/s   bare {median['bare']:.0f}   scanlet {median['scanlet']:.0f}")
    print(f"median p50 ms  bare {p50['bare']:.2f}   scanlet {p50['scanlet']:.2f}")
    print(f"median p99 ms  bare {p99['bare']:.2f}   scanlet {p99['scanlet']:.2f}")
    print(f"ratio scanlet/bare: {median['scanlet'] / median['bare']:.2f}")
    # wrk stops counting at its deadline while a few requests are still in flight, so a few
    # more scans than counted answers may be stored; fewer would mean a lost scan.
    verdict = "ok" if stored >= answered else "LOST SCANS"
    print(f"durability: answered {answered}, stored {stored}: {verdict}")
    if stored < answered:
        sys.exit(1)


if __name__ == "__main__":
    main()
