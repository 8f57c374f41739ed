"""Stats while redirects saturate the server: the latency of ``/api/v1/codes/{slug}/stats``
and ``/api/v1/stats`` asked every 50 ms, with and without wrk driving redirects.

One ``scanlet serve`` (the whole product, SQLite) pinned to one core; wrk on the other core
drives ``GET /{slug}`` for ``--seconds``, and meanwhile a client asks for one code's stats
and all codes' stats every 50 ms (alternately) and records each answer's time. The same
client runs first with no load: that is the baseline of the same run, and the ratio shows
what the load adds. The issue's goal (#19): p99 under 20 ms under load.
Run: python bench/mixed.py [--seconds 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import require_wrk

from tests.processes import Served, served
from tests.wrk import SERVER_CORE, run_wrk

SLUG = "bench"
INTERVAL = 0.05


def ask_stats(instance: Served, token: str, seconds: float) -> list[float]:
    """Milliseconds of each stats answer, one request every INTERVAL for ``seconds``."""
    paths = [f"/api/v1/codes/{SLUG}/stats", "/api/v1/stats"]
    took: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=instance.base, headers=headers, timeout=10) as client:
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            start = time.perf_counter()
            client.get(paths[n % 2]).raise_for_status()
            took.append((time.perf_counter() - start) * 1000)
            n += 1
            time.sleep(max(0.0, INTERVAL - (time.perf_counter() - start)))
    return took


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    require_wrk()
    with tempfile.TemporaryDirectory() as tmp, served(Path(tmp), core=SERVER_CORE) as instance:
        token = instance.key("write", name="bench")
        httpx.post(
            f"{instance.base}/api/v1/codes",
            headers={"Authorization": f"Bearer {token}"},
            json={"target": "https://example.com/landing", "slug": SLUG},
        ).raise_for_status()
        quiet: list[float] = []
        loaded: list[float] = []
        rates: list[float] = []
        for _ in range(args.rounds):
            quiet += ask_stats(instance, token, args.seconds / 2)
            found: list[float] = []
            asker = threading.Thread(
                target=lambda into=found: into.extend(ask_stats(instance, token, args.seconds))
            )
            asker.start()
            result = run_wrk(
                f"{instance.base}/{SLUG}", seconds=args.seconds, connections=args.connections
            )
            asker.join()
            loaded += found
            rates.append(result.rps)
            print(
                f"round: redirects {result.rps:8.0f}/s p99 {result.p99_ms:6.2f} ms; stats "
                f"p50 {statistics.median(found):6.2f} ms p99 {percentile(found, 0.99):6.2f} ms",
                flush=True,
            )
    for label, values in (("no load", quiet), ("under load", loaded)):
        print(
            f"stats {label:10}  n {len(values):5}  p50 {statistics.median(values):6.2f} ms  "
            f"p99 {percentile(values, 0.99):6.2f} ms"
        )
    print(f"redirects meanwhile: median {statistics.median(rates):.0f}/s")
    print(
        f"ratio p99 under load / no load: {percentile(loaded, 0.99) / percentile(quiet, 0.99):.1f}"
    )


if __name__ == "__main__":
    main()
