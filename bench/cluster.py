"""Two instances on one PostgreSQL database: how fast a change reaches the other instance,
and how fast the survivor takes the lead when the leader is killed.

Propagation: a code is retargeted on A ``--changes`` times; each time B (and, as the
baseline measured in the same run, A itself) is polled until it redirects to the new
target. The issue's bound is 1 s. Takeover: the leader is killed with SIGKILL ``--kills``
times (and started again between kills) and the survivor's /readyz polled until it names
itself leader; the bound is 5 s. Both are printed as medians and worst cases.
Run: python bench/cluster.py --db postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redirect import PgServer

from tests.processes import Served, served

POLL = 0.002


def until(client: httpx.Client, url: str, want: str, start: float, found: list[float]) -> None:
    """Append to ``found`` the seconds from ``start`` until GET ``url`` redirects to
    ``want`` (each instance has a client of its own, polled in a thread of its own)."""
    while time.perf_counter() - start < 10.0:
        if client.get(url).headers.get("location") == want:
            found.append(time.perf_counter() - start)
            return
        time.sleep(POLL)
    raise RuntimeError(f"{url} never redirected to {want}")


def leader(instance: Served) -> str | None:
    try:
        named: str | None = httpx.get(f"{instance.base}/readyz", timeout=1).json()["leader"]
    except (httpx.HTTPError, ValueError, KeyError):
        return None
    return named


def propagation(a: Served, b: Served, changes: int) -> tuple[list[float], list[float]]:
    """Seconds until A itself, and until B, serve each new target set on A."""
    headers = {"Authorization": f"Bearer {a.key('write', name='bench')}"}
    own: list[float] = []
    other: list[float] = []
    with (
        httpx.Client(timeout=5) as client,
        httpx.Client(timeout=5) as on_a,
        httpx.Client(timeout=5) as on_b,
    ):
        client.post(
            f"{a.base}/api/v1/codes",
            headers=headers,
            json={"target": "https://example.com/0", "slug": "bench"},
        ).raise_for_status()
        until(on_b, f"{b.base}/bench", "https://example.com/0", time.perf_counter(), [])
        for n in range(1, changes + 1):
            target = f"https://example.com/{n}"
            client.patch(
                f"{a.base}/api/v1/codes/bench", headers=headers, json={"target": target}
            ).raise_for_status()
            # From A's answer to the change: A and B polled at the same time.
            start = time.perf_counter()
            polls = [
                threading.Thread(
                    target=until, args=(poller, f"{instance.base}/bench", target, start, into)
                )
                for instance, poller, into in ((a, on_a, own), (b, on_b, other))
            ]
            for poll in polls:
                poll.start()
            for poll in polls:
                poll.join()
            if len(own) != n or len(other) != n:
                raise RuntimeError("a poll failed")
    return own, other


def takeovers(folder: Path, env: dict[str, str], kills: int) -> list[float]:
    """Seconds from SIGKILL of the leader until the survivor leads, ``kills`` times."""
    taken: list[float] = []
    with ExitStack() as stack:
        homes = {name: folder / name for name in ("a", "b")}
        running: dict[str, Served] = {}
        for name, home in homes.items():
            home.mkdir(exist_ok=True)
            running[name] = stack.enter_context(served(home, env={**env, "SCANLET_INSTANCE": name}))
        for _ in range(kills):
            lead = leader(running["a"])
            if lead not in running:
                raise RuntimeError(f"no leader named: {lead!r}")
            survivor = "b" if lead == "a" else "a"
            start = time.perf_counter()
            running[lead].kill()
            while leader(running[survivor]) != survivor:
                if time.perf_counter() - start > 30:
                    raise RuntimeError("the survivor never took the lead")
                time.sleep(POLL)
            taken.append(time.perf_counter() - start)
            # The killed one comes back (as a follower) for the next round.
            running[lead] = stack.enter_context(
                served(homes[lead], env={**env, "SCANLET_INSTANCE": lead})
            )
    return taken


def summary(label: str, seconds: list[float]) -> str:
    return (
        f"{label:28} median {statistics.median(seconds) * 1000:7.1f} ms"
        f"   worst {max(seconds) * 1000:7.1f} ms   ({len(seconds)} runs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, metavar="URL", help="a postgresql:// admin URL")
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--kills", type=int, default=5)
    args = parser.parse_args()
    pg = PgServer(args.db)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            env = {
                "SCANLET_DB": pg.create("cluster"),
                "SCANLET_SECRET_FILE": str(folder / "scanlet.key"),
                "SCANLET_LOG_LEVEL": "warning",
            }
            with ExitStack() as stack:
                instances = []
                for name in ("a", "b"):
                    home = folder / f"p{name}"
                    home.mkdir()
                    instances.append(
                        stack.enter_context(served(home, env={**env, "SCANLET_INSTANCE": name}))
                    )
                a, b = instances
                own, other = propagation(a, b, args.changes)
            taken = takeovers(folder, env, args.kills)
    finally:
        pg.drop_all()
    print(summary("change served by A itself", own))
    print(summary("change served by B", other))
    print(f"ratio B/A (median): {statistics.median(other) / statistics.median(own):.1f}")
    print(summary("leader killed -> survivor leads", taken))


if __name__ == "__main__":
    main()
