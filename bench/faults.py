"""Fault scripts: prove what Scanlet promises under crashes, shutdowns, overload and restarts.

    python bench/faults.py kill9    [--rounds 10]   SIGKILL under load, N times: nothing lost
    python bench/faults.py sigterm  [--server both] SIGTERM under load: drained, exit 0
    python bench/faults.py overload [--seconds 20]  wrk -c2000: bounded RSS, 503s, recovery
    python bench/faults.py restart  [--events 1M]   kill -9 with a 1M-event log: time to ready

Every request goes to 127.0.0.1; every loop is bounded in count and in time. Each command
prints its figures and exits 1 when a promise fails. Redirects carry a unique User-Agent
and device events a unique id, so "acknowledged" is a set and the check is a set difference
against what the database holds afterwards (Jepsen style), not a count.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.processes import free_port
from tests.wrk import LOAD_CORE, SERVER_CORE, run_wrk

SLUG = "poster"
MAX_REQUESTS_PER_CLIENT = 200_000  # a bound on every client loop, besides its deadline
BATCH = 20  # device events per ingest request


class Server:
    """One ``scanlet serve`` process on a database; restartable, logs to a file."""

    def __init__(self, db: Path, *, kind: str, pin: bool, env: dict[str, str] | None = None):
        self.db = db
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.kind = kind
        self.pin = pin and shutil.which("taskset") is not None
        self.env = {
            **os.environ,
            "SCANLET_DB": str(db),
            "SCANLET_PORT": str(self.port),
            "SCANLET_SERVER": kind,
            "SCANLET_LOG_FORMAT": "json",
            "SCANLET_LOG_LEVEL": "warning",
            **(env or {}),
        }
        self.log = db.parent / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait for ``/readyz`` 200; returns the seconds that took."""
        taskset = ["taskset", "-c", SERVER_CORE] if self.pin else []
        started = time.monotonic()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*taskset, sys.executable, "-m", "scanlet", "serve"],
                env=self.env,
                stdout=log,
                stderr=log,
            )
        end = started + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < end:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}: see {self.log}")
                try:
                    if client.get(f"{self.base}/readyz").status_code == 200:
                        return time.monotonic() - started
                except httpx.TransportError:
                    pass
                time.sleep(0.02)
        raise RuntimeError(f"server not ready within {timeout} s: see {self.log}")

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL, no grace."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60.0) -> tuple[int, float]:
        """SIGTERM and wait; returns (exit code, seconds to exit)."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        return code, time.monotonic() - started

    def ensure_stopped(self) -> None:
        """Kill the process if it still runs (cleanup)."""
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


def make_key(db: Path) -> str:
    """A write-scope API key on ``db`` (through the CLI, as an operator would)."""
    out = subprocess.run(
        [sys.executable, "-m", "scanlet", "keys", "create", "--name", "faults", "--scope", "write"],
        env={**os.environ, "SCANLET_DB": str(db)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.strip().splitlines()[-1]


def create_code(base: str, token: str) -> None:
    """The code every redirect scans."""
    answer = httpx.post(
        f"{base}/api/v1/codes",
        headers={"Authorization": f"Bearer {token}"},
        json={"target": "https://example.com/menu", "slug": SLUG},
        timeout=10,
    )
    if answer.status_code != 201:
        raise RuntimeError(f"cannot create the code: {answer.status_code} {answer.text}")


@dataclass
class Tally:
    """What the clients saw: acknowledged sets, statuses, and requests with no answer."""

    acked_scans: set[str] = field(default_factory=set)
    acked_events: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    unanswered_scans: set[str] = field(default_factory=set)
    unanswered_events: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _events(count: int) -> list[dict[str, str]]:
    now = datetime.now(UTC).isoformat()
    return [
        {"type": "scan", "id": str(uuid.uuid4()), "slug": SLUG, "occurred_at": now}
        for _ in range(count)
    ]


def drive(
    base: str, token: str, tag: str, tally: Tally, stop: threading.Event, deadline: float
) -> None:
    """One client: redirects (unique User-Agent) and, every fourth request, an event batch.

    Ends at ``deadline``, when ``stop`` is set, or when the server no longer accepts
    connections. A request that got no answer is remembered as unanswered: the server may or
    may not have accepted it, and the checks tell which.
    """
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=15.0) as client:
        for n in range(MAX_REQUESTS_PER_CLIENT):
            if stop.is_set() or time.monotonic() > deadline:
                return
            agent = f"{tag}-{n}"
            batch = _events(BATCH) if n % 4 == 3 else []
            try:
                if batch:
                    answer = client.post("/api/v1/events", headers=headers, json={"events": batch})
                else:
                    answer = client.get(f"/{SLUG}", headers={"user-agent": agent})
            except httpx.ConnectError:
                with tally.lock:
                    tally.errors["connect refused"] += 1
                return  # the server is gone or no longer listening: nothing was accepted
            except httpx.TransportError as exc:
                with tally.lock:
                    tally.errors[type(exc).__name__] += 1
                    if batch:
                        tally.unanswered_events.update(e["id"] for e in batch)
                    else:
                        tally.unanswered_scans.add(agent)
                continue
            with tally.lock:
                tally.statuses[answer.status_code] += 1
                if batch and answer.status_code == 200:
                    for result in answer.json()["results"]:
                        if result["status"] == "accepted":
                            tally.acked_events.add(result["id"])
                elif not batch and answer.status_code == 302:
                    tally.acked_scans.add(agent)


@contextmanager
def clients(
    base: str, token: str, tag: str, tally: Tally, count: int, seconds: float
) -> Iterator[threading.Event]:
    """Run ``count`` clients in threads for at most ``seconds``; the block may stop them."""
    stop = threading.Event()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(target=drive, args=(base, token, f"{tag}-c{i}", tally, stop, deadline))
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    try:
        yield stop
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=seconds + 30)


def stored(db: Path) -> tuple[set[str], set[str], str]:
    """User agents of stored redirect scans, stored device event ids, integrity_check."""
    with sqlite3.connect(db) as conn:
        agents = {
            row[0]
            for row in conn.execute(
                "SELECT json_extract(CAST(payload AS TEXT), '$.user_agent') FROM events"
                " WHERE type = 'scan.recorded'"
            )
            if row[0]
        }
        ids = {row[0] for row in conn.execute("SELECT id FROM device_event_ids")}
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    conn.close()
    return agents, ids, integrity


def resend_duplicates(base: str, token: str, ids: Sequence[str]) -> Counter[str]:
    """Send acknowledged event ids again; every one must come back ``duplicate``."""
    outcome: Counter[str] = Counter()
    now = datetime.now(UTC).isoformat()
    ordered = sorted(ids)
    with httpx.Client(base_url=base, timeout=30.0) as client:
        for start in range(0, len(ordered), 1000):
            events = [
                {"type": "scan", "id": i, "slug": SLUG, "occurred_at": now}
                for i in ordered[start : start + 1000]
            ]
            answer = client.post(
                "/api/v1/events",
                headers={"Authorization": f"Bearer {token}"},
                json={"events": events},
            )
            answer.raise_for_status()
            outcome.update(r["status"] for r in answer.json()["results"])
    return outcome


# --- kill9 ---------------------------------------------------------------------------------


def kill9(args: argparse.Namespace, folder: Path) -> bool:
    """SIGKILL the server at random moments under load; nothing acknowledged may be lost."""
    db = folder / "scanlet.db"
    rng = random.Random(args.seed)
    token = make_key(db)
    tally = Tally()
    server = Server(db, kind=args.server, pin=args.pin)
    ok = True
    try:
        server.start()
        create_code(server.base, token)
        for round_ in range(args.rounds):
            # A restart takes the lock file the killed process held (the kernel frees it).
            ready = server.start() if round_ else 0.0
            before = (len(tally.acked_scans), len(tally.acked_events))
            wait = rng.uniform(args.min_wait, args.max_wait)
            with clients(server.base, token, f"r{round_}", tally, args.clients, wait + 10):
                time.sleep(wait)
                server.kill()
            _, _, integrity = stored(db)
            ok &= integrity == "ok"
            print(
                f"round {round_ + 1:2d}: killed after {wait:4.2f} s, acked"
                f" {len(tally.acked_scans) - before[0]:5d} redirects"
                f" {len(tally.acked_events) - before[1]:5d} events,"
                f" restart ready in {ready:4.2f} s, integrity {integrity}"
            )
        server.start()
        again = resend_duplicates(server.base, token, list(tally.acked_events))
        code, _ = server.terminate()
    finally:
        server.ensure_stopped()
    agents, ids, integrity = stored(db)
    lost_scans = tally.acked_scans - agents
    lost_events = tally.acked_events - ids
    not_duplicate = sum(n for status, n in again.items() if status != "duplicate")
    print(
        f"redirects: acknowledged {len(tally.acked_scans)} stored"
        f" {len(tally.acked_scans & agents)} lost {len(lost_scans)}"
        f" (unanswered when killed: {len(tally.unanswered_scans)},"
        f" of which stored {len(tally.unanswered_scans & agents)})"
    )
    print(
        f"events:    acknowledged {len(tally.acked_events)} stored"
        f" {len(tally.acked_events & ids)} lost {len(lost_events)};"
        f" resent: {dict(again)}"
    )
    print(f"integrity_check: {integrity}; final SIGTERM exit code {code}")
    return ok and not lost_scans and not lost_events and not not_duplicate and integrity == "ok"


# --- sigterm -------------------------------------------------------------------------------


def _positions(db: Path) -> tuple[int, dict[str, int]]:
    with sqlite3.connect(db) as conn:
        last = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
        positions = dict(conn.execute("SELECT name, seq FROM follower_positions").fetchall())
    conn.close()
    return last, positions


def sigterm_once(args: argparse.Namespace, folder: Path, kind: str) -> bool:
    """SIGTERM one server under load and check the drain."""
    db = folder / kind / "scanlet.db"
    db.parent.mkdir()
    token = make_key(db)
    tally = Tally()
    env = {"SCANLET_SHUTDOWN_TIMEOUT": str(args.timeout)}
    server = Server(db, kind=kind, pin=args.pin, env=env)
    try:
        server.start()
        create_code(server.base, token)
        # A client that stops half-way through its body: the drain must not wait for it
        # beyond the graceful timeout.
        stuck = socket.create_connection(("127.0.0.1", server.port))
        stuck.sendall(
            f"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{".encode()
        )
        wait = random.Random(args.seed).uniform(args.min_wait, args.max_wait)
        with clients(server.base, token, kind, tally, args.clients, wait + 30) as stop:
            time.sleep(wait)
            code, seconds = server.terminate(timeout=args.timeout + 30)
            stop.set()
        stuck.close()
    finally:
        server.ensure_stopped()
    agents, ids, integrity = stored(db)
    last, positions = _positions(db)
    five_xx = sum(n for status, n in tally.statuses.items() if status >= 500)
    lost = len(tally.acked_scans - agents) + len(tally.acked_events - ids)
    # Accepted (its effect is stored) yet the client got no answer: the drain dropped it.
    dropped = len(tally.unanswered_scans & agents) + len(tally.unanswered_events & ids)
    behind = {name: last - seq for name, seq in positions.items() if seq != last}
    print(
        f"{kind:8s}: exit {code} after {seconds:.2f} s (graceful timeout {args.timeout:g} s,"
        f" one client stuck mid-body); answered {sum(tally.statuses.values())}"
        f" {dict(sorted(tally.statuses.items()))}; 5xx {five_xx};"
        f" transport errors {dict(tally.errors)}"
    )
    print(
        f"{'':8s}  acked redirects {len(tally.acked_scans)} events {len(tally.acked_events)};"
        f" lost {lost}; accepted but unanswered {dropped}; followers behind {behind or 0};"
        f" integrity {integrity}"
    )
    return (
        code == 0
        and seconds <= args.timeout + args.margin
        and five_xx == 0
        and lost == 0
        and dropped == 0
        and not behind
        and integrity == "ok"
    )


def sigterm(args: argparse.Namespace, folder: Path) -> bool:
    """SIGTERM under load for each server."""
    kinds = ["granian", "uvicorn"] if args.server == "both" else [args.server]
    results = [sigterm_once(args, folder, kind) for kind in kinds]
    return all(results)


# --- overload ------------------------------------------------------------------------------


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _metric(base: str, name: str, **labels: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def overload(args: argparse.Namespace, folder: Path) -> bool:
    """Several times the sustainable load: bounded mailboxes and RSS, 503s, recovery."""
    db = folder / "scanlet.db"
    token = make_key(db)
    env = {"SCANLET_SCAN_QUEUE": str(args.queue)}
    server = Server(db, kind=args.server, pin=args.pin, env=env)
    samples: list[tuple[float, float]] = []
    try:
        server.start()
        create_code(server.base, token)
        url = f"{server.base}/{SLUG}"
        idle_rss = _rss_mb(server.pid)
        base = run_wrk(url, seconds=5, connections=64)
        print(f"sustainable: {base.rps:8.0f} req/s at 64 connections, p99 {base.p99_ms:.1f} ms")
        done = threading.Event()

        def sample() -> None:
            started = time.monotonic()
            for _ in range(int(args.seconds * 4) + 400):  # bounded: 4 samples a second
                if done.is_set():
                    return
                samples.append((time.monotonic() - started, _rss_mb(server.pid)))
                time.sleep(0.25)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            heavy = run_wrk(url, seconds=args.seconds, connections=args.connections)
        finally:
            done.set()
            sampler.join()
        refused = _metric(server.base, "scanlet_http_request_duration_seconds_count", status="503")
        share = heavy.errors / max(1, heavy.requests)
        print(
            f"overload:    {heavy.rps:8.0f} req/s at {args.connections} connections,"
            f" p50 {heavy.p50_ms:.0f} ms p99 {heavy.p99_ms:.0f} ms;"
            f" non-3xx/errors {heavy.errors} of {heavy.requests} ({share:.1%});"
            f" 503 answered by the server {refused:.0f}"
        )
        print("RSS over time (s: MB):", end="")
        for at, rss in samples[:: max(1, len(samples) // 12)]:
            print(f" {at:4.1f}: {rss:5.1f}", end="")
        peak = max(rss for _, rss in samples)
        print(f"\nRSS idle {idle_rss:.1f} MB, peak {peak:.1f} MB, bound {args.rss_bound} MB")
        recovered = _recovery(server.base)
        after = run_wrk(url, seconds=3, connections=64)
        print(
            f"recovery: first 302 and /readyz 200 after {recovered:.2f} s;"
            f" then {after.rps:.0f} req/s at 64 connections, errors {after.errors};"
            f" RSS {_rss_mb(server.pid):.1f} MB"
        )
        code, _ = server.terminate()
    finally:
        server.ensure_stopped()
    return peak <= args.rss_bound and after.errors == 0 and code == 0


def _recovery(base: str) -> float:
    started = time.monotonic()
    with httpx.Client(timeout=5.0) as client:
        for _ in range(600):  # at most ~60 s
            try:
                scan = client.get(f"{base}/{SLUG}").status_code
                ready = client.get(f"{base}/readyz").status_code
                if scan == 302 and ready == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError("the server did not recover within 60 s")


# --- restart -------------------------------------------------------------------------------


def fill_log(db: Path, count: int) -> float:
    """Append ``count`` scan events straight into the log (the followers have not seen them)."""
    from scanlet.actors.events import ScanRecorded, encode_event
    from scanlet.ids import new_event_id
    from scanlet.storage.timefmt import format_time

    started = time.perf_counter()
    now = datetime.now(UTC)
    at = format_time(now)
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    for start in range(0, count, 50_000):
        rows = []
        for i in range(start, min(count, start + 50_000)):
            event = ScanRecorded(
                id=new_event_id(),
                occurred_at=now,
                slug=SLUG,
                source="qr",
                ip="203.0.113.0",
                visitor=f"v{i % 5000}",
                user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
            )
            rows.append((event.id, "scan.recorded", SLUG, at, at, encode_event(event)))
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO events (id, type, slug, occurred_at, recorded_at, payload)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return time.perf_counter() - started


def _lag(base: str) -> float:
    return _metric(base, "scanlet_projection_lag_events", projection="analytics")


def restart(args: argparse.Namespace, folder: Path) -> bool:
    """Time to /readyz 200 after kill -9 with a big log and a follower far behind."""
    db = folder / "scanlet.db"
    token = make_key(db)
    server = Server(db, kind=args.server, pin=args.pin)
    try:
        server.start()
        create_code(server.base, token)
        server.terminate()
        loaded = fill_log(db, args.events)
        print(f"log: {args.events} scan events appended in {loaded:.1f} s (analytics behind)")
        first = server.start()
        latencies = []
        with httpx.Client(timeout=10) as client:
            for _ in range(20):
                began = time.perf_counter()
                assert client.get(f"{server.base}/{SLUG}").status_code == 302
                latencies.append((time.perf_counter() - began) * 1000)
        time.sleep(1.0)
        lag_before_kill = _lag(server.base)
        server.kill()
        second = server.start()
        print(
            f"start with {args.events} events behind: ready in {first:.2f} s; redirects during"
            f" catch-up: max {max(latencies):.0f} ms, median {sorted(latencies)[10]:.0f} ms"
        )
        print(
            f"kill -9 during catch-up (analytics lag {lag_before_kill:.0f}):"
            f" ready again in {second:.2f} s"
        )
        began = time.monotonic()
        lag = _lag(server.base)
        for _ in range(int(args.catch_up_limit * 2)):
            if lag == 0:
                break
            time.sleep(0.5)
            lag = _lag(server.base)
        print(f"analytics caught up: lag {lag:.0f} after {time.monotonic() - began:.1f} s more")
        code, seconds = server.terminate()
        print(f"SIGTERM: exit {code} in {seconds:.2f} s")
    finally:
        server.ensure_stopped()
    return second <= args.ready_bound and first <= args.ready_bound and code == 0


# --- entry point ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the sub-command, run it in a temporary folder, exit 1 if a promise failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="granian", help="granian, uvicorn (sigterm: both)")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="no taskset")
    parser.add_argument("--seed", type=int, default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    k = sub.add_parser("kill9")
    k.add_argument("--rounds", type=int, default=10)
    k.add_argument("--clients", type=int, default=4)
    k.add_argument("--min-wait", type=float, default=0.5)
    k.add_argument("--max-wait", type=float, default=2.0)
    t = sub.add_parser("sigterm")
    t.add_argument("--clients", type=int, default=8)
    t.add_argument("--min-wait", type=float, default=1.0)
    t.add_argument("--max-wait", type=float, default=2.0)
    t.add_argument("--timeout", type=float, default=3.0, help="SCANLET_SHUTDOWN_TIMEOUT")
    # Past the graceful timeout: the actors drain and stop, the process exits.
    t.add_argument("--margin", type=float, default=3.0, help="seconds allowed past the timeout")
    o = sub.add_parser("overload")
    o.add_argument("--seconds", type=int, default=20)
    o.add_argument("--connections", type=int, default=2000)
    o.add_argument("--queue", type=int, default=512, help="SCANLET_SCAN_QUEUE")
    o.add_argument("--rss-bound", type=float, default=250.0, help="MB")
    r = sub.add_parser("restart")
    r.add_argument("--events", type=int, default=1_000_000)
    r.add_argument("--ready-bound", type=float, default=5.0, help="seconds")
    r.add_argument("--catch-up-limit", type=float, default=120.0, help="seconds")
    args = parser.parse_args(argv)
    if args.command == "sigterm" and "--server" not in (argv or sys.argv):
        args.server = "both"
    if args.command in ("overload",) and shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    _ = LOAD_CORE  # wrk is pinned by the harness
    commands = {"kill9": kill9, "sigterm": sigterm, "overload": overload, "restart": restart}
    with tempfile.TemporaryDirectory(prefix=f"scanlet-{args.command}-") as tmp:
        started = time.monotonic()
        ok = commands[args.command](args, Path(tmp))
        print(f"{args.command}: {'PASS' if ok else 'FAIL'} in {time.monotonic() - started:.0f} s")
        if not ok:
            log = Path(tmp) / "server.log"
            for path in [log, *Path(tmp).glob("*/server.log")]:
                if path.exists():
                    print(
                        f"--- {path.name} (last lines)\n"
                        + "\n".join(path.read_text().splitlines()[-15:])
                    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
