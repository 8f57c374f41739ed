"""Redirect throughput: Scanlet (durable scan recording) against a bare redirecting app.

Three Scanlet servers are measured: "core" runs only the scan path (SCANLET_FEATURES=none),
"full" the whole product, with analytics, webhooks and the dashboard following the log in the
same process (the default), and "rules" the scan path alone with a code of 10 routing rules
whose last one matches (issue #15), printed as a ratio to "core" of the same run.

All servers are pinned to one core and driven alternately by wrk from the other core; the
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
from contextlib import ExitStack
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import pinned_server, require_wrk

from tests.processes import free_port, served
from tests.wrk import SERVER_CORE, WrkResult, run_wrk

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


# The two Scanlet servers measured: the scan path alone (SCANLET_FEATURES=none: codes, scans,
# ops), and the whole product with analytics, webhooks and the dashboard following the log in
# the same process (the default).
VARIANTS = {"core": "none", "full": "all", "rules": "none"}
#: The routed code: nine rules that miss (each a condition a scan is judged on: the query,
#: the device and OS from the user agent, the language, a schedule) and a tenth that
#: matches the benchmark's query string. Domains (a Host per request) are not built yet.
_MISSES = [
    {"query": {"campaign": "r0"}},
    {"device": "tablet"},
    {"os": "ios"},
    {"language": "de"},
    {"query": {"campaign": "r4", "v": "2"}},
    {"os": "android", "query": {"campaign": "r5"}},
    {"schedule": {"tz": "Europe/Berlin", "days": ["sun"], "from": "03:00", "to": "03:01"}},
    {"device": "desktop", "language": "fr"},
    {"query": {"campaign": "r8"}},
]
RULES = [
    *({"when": when, "target": f"https://example.com/r{i}"} for i, when in enumerate(_MISSES)),
    {"when": {"query": {"campaign": "bench"}}, "target": "https://example.com/rule"},
]
#: What each variant requests, after the base URL.
PATHS = {"core": f"/{SLUG}", "full": f"/{SLUG}", "rules": f"/{SLUG}?campaign=bench"}


def main() -> None:
    """Alternate bare, core and full; print medians, ratios, and the durability checks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    require_wrk()
    here = Path(__file__).parent
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as servers:
        folder = Path(tmp)
        bare_port = free_port()
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
        urls = {"bare": f"http://127.0.0.1:{bare_port}/{SLUG}"}
        dbs: dict[str, Path] = {}
        servers.enter_context(pinned_server(bare_argv, cwd=here, ready_url=urls["bare"]))
        for name, features in VARIANTS.items():
            (folder / name).mkdir()
            dbs[name] = folder / name / "scanlet.db"
            env = {"SCANLET_LOG_LEVEL": "warning", "SCANLET_FEATURES": features}
            running = servers.enter_context(served(folder / name, env=env, core=SERVER_CORE))
            urls[name] = running.base + PATHS[name]
            code = {"target": "https://example.com/landing", "slug": SLUG}
            httpx.post(
                f"{running.base}/api/v1/codes",
                headers={"Authorization": f"Bearer {running.key(name='bench')}"},
                json={**code, "rules": RULES} if name == "rules" else code,
            ).raise_for_status()
        results: dict[str, list[WrkResult]] = {name: [] for name in urls}
        for _ in range(args.rounds):
            for name, url in urls.items():
                result = run_wrk(url, seconds=args.seconds, connections=args.connections)
                results[name].append(result)
                print(line(name, result), flush=True)
        servers.close()
        durability = {
            name: (sum(r.requests - r.errors for r in results[name]), stored_scans(dbs[name]))
            for name in VARIANTS
        }
    median = {name: statistics.median(r.rps for r in rs) for name, rs in results.items()}
    for label, field in (("req/s ", "rps"), ("p50 ms", "p50_ms"), ("p99 ms", "p99_ms")):
        figures = "   ".join(
            f"{name} {statistics.median(getattr(r, field) for r in rs):.2f}".rstrip("0").rstrip(".")
            for name, rs in results.items()
        )
        print(f"median {label}  {figures}")
    for name in VARIANTS:
        print(f"ratio {name}/bare: {median[name] / median['bare']:.2f}")
    # The goal: 10 rules cost at most 5 % of the plain scan path's throughput.
    print(f"ratio rules/core: {median['rules'] / median['core']:.3f}")
    lost = False
    for name, (answered, stored) in durability.items():
        # wrk stops counting at its deadline while a few requests are still in flight, so a
        # few more scans than counted answers may be stored; fewer would mean a lost scan.
        verdict = "ok" if stored >= answered else "LOST SCANS"
        lost = lost or stored < answered
        print(f"durability {name}: answered {answered}, stored {stored}: {verdict}")
    if lost:
        sys.exit(1)


if __name__ == "__main__":
    main()
