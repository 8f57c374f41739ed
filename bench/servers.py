"""Which ASGI server to embed: uvicorn and granian on the same trivial Starlette route.

Each server runs the bare app pinned to one core; wrk drives it from the other core; the two
alternate for several rounds and the medians are compared. Run: python bench/servers.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import pinned_server, require_wrk

from tests.processes import free_port
from tests.wrk import run_wrk

SERVERS: dict[str, Callable[[int], list[str]]] = {
    "uvicorn": lambda port: [
        sys.executable,
        "-m",
        "uvicorn",
        "bare_app:app",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ],
    "granian": lambda port: [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--port",
        str(port),
        "--workers",
        "1",
        "--loop",
        "uvloop",
        "--log-level",
        "warning",
        "--no-ws",
        "bare_app:app",
    ],
}


def main() -> None:
    """Alternate the servers, then print medians and the ratio granian/uvicorn."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    require_wrk()
    here = Path(__file__).parent
    rps: dict[str, list[float]] = {name: [] for name in SERVERS}
    for _ in range(args.rounds):
        for name, argv in SERVERS.items():
            port = free_port()
            with pinned_server(argv(port), cwd=here, ready_url=f"http://127.0.0.1:{port}/plain/ok"):
                result = run_wrk(f"http://127.0.0.1:{port}/plain/ok", seconds=args.seconds)
            rps[name].append(result.rps)
            print(
                f"{name:8} {result.rps:10.0f} req/s  p50 {result.p50_ms:.2f} ms  "
                f"p99 {result.p99_ms:.2f} ms"
            )
    medians = {name: statistics.median(values) for name, values in rps.items()}
    print(f"median req/s: {', '.join(f'{n} {v:.0f}' for n, v in medians.items())}")
    print(f"granian/uvicorn: {medians['granian'] / medians['uvicorn']:.2f}")


if __name__ == "__main__":
    main()
