"""What a redirect takes while hostile clients hold connections open, on both servers.

For each server (granian, uvicorn) the script starts ``scanlet serve``, measures redirects on
new connections with nobody attacking (the baseline), then again while each attack holds its
connections: stalled request bodies (headers announcing a body that never comes), open event
streams that are never read, and both at once. It prints the median and the slowest redirect
of each phase and the median's ratio to the baseline measured in the same run.

Run: python bench/attacks.py [--attackers 300] [--samples 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.attacks import open_streams, redirect_seconds, stalled_bodies
from tests.processes import Served, served


def timings(base: str, samples: int) -> list[float]:
    """``samples`` redirects on new connections, in seconds."""
    return [redirect_seconds(base, "menu") for _ in range(samples)]


def phase(
    running: Served,
    name: str,
    attacks: list[Callable[[], AbstractContextManager[object]]],
    samples: int,
    baseline: float | None,
) -> float:
    with ExitStack() as stack:
        for attack in attacks:
            stack.enter_context(attack())
        seconds = timings(running.base, samples)
        alive = httpx.get(f"{running.base}/livez", timeout=10).status_code == 200
    median = statistics.median(seconds)
    ratio = f"{median / baseline:5.2f}x" if baseline else "  1.00x"
    print(
        f"  {name:<28} median {median * 1000:7.2f} ms  slowest {max(seconds) * 1000:7.2f} ms"
        f"  {ratio} of baseline  livez {'ok' if alive else 'FAILED'}"
    )
    return median


def run(server: str, attackers: int, samples: int) -> None:
    env = {
        "SCANLET_STREAM_LIMIT": str(attackers + 50),
        "SCANLET_STREAM_LIMIT_PER_KEY": str(attackers + 50),
        "SCANLET_BODY_TIMEOUT": "600",
    }
    with tempfile.TemporaryDirectory() as folder, served(Path(folder), server=server, env=env) as s:
        writer, reader = s.key("write"), s.key("read")
        made = httpx.post(
            f"{s.base}/api/v1/codes",
            json={"target": "https://example.com/", "slug": "menu"},
            headers={"Authorization": f"Bearer {writer}"},
        )
        made.raise_for_status()
        print(f"{server}: {attackers} attackers per attack, {samples} redirects per phase")
        timings(s.base, 10)  # warm up
        baseline = phase(s, "no attack", [], samples, None)

        def bodies() -> AbstractContextManager[object]:
            return stalled_bodies(s.base, attackers)

        def streams() -> AbstractContextManager[object]:
            return open_streams(s.base, reader, attackers)

        phase(s, "stalled bodies", [bodies], samples, baseline)
        phase(s, "open streams", [streams], samples, baseline)
        phase(s, "stalled bodies + streams", [bodies, streams], samples, baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attackers", type=int, default=300)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    for server in ("granian", "uvicorn"):
        run(server, args.attackers, args.samples)


if __name__ == "__main__":
    main()
