"""Import speed: visits per second from a fake Shlink over loopback and from an archive,
against POST /api/v1/events of the same visits, each while a server takes redirects on the
same database (their p99 is reported for each phase, and for redirects alone first, beside
the server's own p99 of its loop lag, its redirects and its scan commits, and how long its
checkpoints held writes back, from /metrics).

Three ``scanlet serve`` processes, each on its own SQLite database with a live code ``live``
that a few client threads keep scanning: the Shlink import runs into the first (``scanlet
import shlink`` as a process, as users run it), the archive exported from it into the
second, and the same visits as device events into the third, in batches of 1000 over four
connections (the ingest benchmark's client). The ratios compare each import with the
ingest of the same visits in the same run. After each import into SQLite the benchmark
reads the log itself while the server runs: every imported visit must be there. With
``--db`` (a ``postgresql://`` admin URL) each server gets a new PostgreSQL database there
instead, dropped at the end.
Run: python bench/import.py [--visits 100000] [--codes 100] [--import-core load|server]
[--phases shlink,archive,ingest] [--control] [--boost-clients] [--db URL]
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redirect import PgServer

from tests.importing.fakes import FakeShlink, serving
from tests.processes import Served, served
from tests.wrk import LOAD_CORE, SERVER_CORE

REDIRECT_CLIENTS = 4
#: With --boost-clients, how many steps the redirect clients raise their CPU priority.
CLIENT_BOOST = 10
_boost = [False]
INGEST_BATCH = 1000
INGEST_CLIENTS = 4


def fake_shlink(codes: int, visits: int) -> FakeShlink:
    """``codes`` short URLs sharing ``visits`` visits, a second apart, distinct agents."""
    fake = FakeShlink()
    each = visits // codes
    for n in range(codes):
        fake.add(f"c{n}", f"https://example.com/{n}")
        fake.visits[f"c{n}"] = [
            {
                **FakeShlink.visit(i),
                "date": f"2026-10-{1 + (i // 86400) % 28:02d}T{(i // 3600) % 24:02d}:"
                f"{(i // 60) % 60:02d}:{i % 60:02d}+00:00",
                "userAgent": f"Mozilla/5.0 (bench {n}-{i})",
            }
            for i in range(each)
        ]
    return fake


class Redirects:
    """Client threads scanning ``/live`` until stopped, in a process of their own (sharing
    the benchmark's interpreter, the fake Shlink's and the ingest client's turns at its GIL
    would show up as redirect latency); latencies are kept per phase."""

    def __init__(self, base: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._base = base
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_scan_until_stopped, args=(base, child, _boost[0]))
        self._seen, self._held = server_metrics(base)
        self._taken_at = time.monotonic()

    def start(self) -> None:
        self._process.start()

    def take(self) -> tuple[float, int, str]:
        """p99 in ms, count, and the answers other than 302 (how many, of which status)
        since the last take, and the server's own p99s meanwhile (HISTOGRAMS)."""
        self._pipe.send("take")
        taken, statuses = self._pipe.recv()
        seen, held = self._seen, self._held
        since, self._taken_at = self._taken_at, time.monotonic()
        self._seen, self._held = server_metrics(self._base)
        errors = sum(statuses.values())
        others = f"{errors} not 302" + (f" {dict(statuses)}" if statuses else "")
        for label in HISTOGRAMS:
            others += f"; server {label} p99 {histogram_p99(seen[label], self._seen[label])}"
        if held is not None and self._held is not None:
            share = (self._held - held) / (self._taken_at - since)
            others += f"; server writes held {share * 1000:.1f} ms a second"
        if len(taken) < 2:
            return 0.0, len(taken), others
        return statistics.quantiles(taken, n=100)[98] * 1000, len(taken), others

    def stop(self) -> None:
        self._pipe.send("stop")
        self._process.join(timeout=60)


#: The server's histograms reported for each phase, by what the report calls them, each
#: with the text its series must hold: its loop's lag, the redirects as the server timed
#: them (none of the clients' own waits for their core), its group commits of scans
#: (which wait for a lock the import holds) and its analytics follower's batch transactions
#: (which the scans' commits wait behind).
HISTOGRAMS = {
    "loop lag": ("scanlet_event_loop_lag_seconds", ""),
    "redirect": ("scanlet_http_request_duration_seconds", 'status="302"'),
    "scan commit": ("scanlet_scan_commit_seconds", ""),
    "analytics apply": ("scanlet_projection_apply_seconds", 'projection="analytics"'),
}


#: Seconds in all that the server's checkpoints held its writes back to let the WAL start
#: over (SQLite only): every scan commit waits meanwhile.
WRITE_HOLD_SECONDS = "scanlet_db_write_hold_seconds_total"


def server_metrics(base: str) -> tuple[dict[str, dict[float, float]], float | None]:
    """From one scrape of the server's /metrics: its cumulative histograms named in
    HISTOGRAMS (observations at or under each bound), and the seconds its writes were held
    back (None where it exports none)."""
    lines = httpx.get(f"{base}/metrics", timeout=30).text.splitlines()
    prefix = f"{WRITE_HOLD_SECONDS} "
    held = next((float(line[len(prefix) :]) for line in lines if line.startswith(prefix)), None)
    return server_histograms(lines), held


def server_histograms(lines: list[str]) -> dict[str, dict[float, float]]:
    """The cumulative histograms named in HISTOGRAMS among a scrape's ``lines``:
    observations at or under each bound."""
    found: dict[str, dict[float, float]] = {label: {} for label in HISTOGRAMS}
    for label, (name, holding) in HISTOGRAMS.items():
        for line in lines:
            if line.startswith(f"{name}_bucket{{") and holding in line:
                bound = float(line.split('le="', 1)[1].split('"', 1)[0])
                found[label][bound] = found[label].get(bound, 0.0) + float(line.rsplit(" ", 1)[1])
    return found


def histogram_p99(before: dict[float, float], after: dict[float, float]) -> str:
    """The bucket the 99th percentile of the probes between two scrapes fell in, and an
    estimate within it (linear between the bucket's bounds, as Prometheus'
    ``histogram_quantile`` does)."""
    counts = sorted((bound, after[bound] - before.get(bound, 0.0)) for bound in after)
    if not counts or counts[-1][1] <= 0:
        return "unknown"
    target = 0.99 * counts[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in counts:
        if count >= target:
            if bound == float("inf"):
                return f"over {lower * 1000:g} ms"
            share = (target - below) / (count - below) if count > below else 1.0
            estimate = lower + share * (bound - lower)
            return f"~{estimate * 1000:.2f} ms, in ({lower * 1000:g}, {bound * 1000:g}]"
        lower, below = bound, count
    return "unknown"


def _scan_until_stopped(base: str, pipe: Connection, boost: bool) -> None:
    """The redirect clients' process: scans until told to stop, answering each ``take``
    with the latencies and the other statuses seen since the last one."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(LOAD_CORE)})
    if boost:
        # The clients stand for visitors on other machines, whose latency an import on
        # this one cannot touch: ahead of the import on their shared core (needs root).
        os.nice(-CLIENT_BOOST)
    stop = threading.Event()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    def scan() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while not stop.is_set():
                started = time.perf_counter()
                status = client.get("/live", follow_redirects=False).status_code
                took = time.perf_counter() - started
                with lock:
                    latencies.append(took)
                    if status != 302:
                        statuses[status] += 1

    threads = [threading.Thread(target=scan) for _ in range(REDIRECT_CLIENTS)]
    for thread in threads:
        thread.start()
    while pipe.recv() == "take":
        with lock:
            pipe.send((latencies.copy(), statuses.copy()))
            latencies.clear()
            statuses.clear()
    stop.set()
    for thread in threads:
        thread.join()


#: Where the servers' databases are made with --db (None: a SQLite file in each folder).
_postgres: list[PgServer | None] = [None]


@contextmanager
def server(folder: Path) -> Iterator[tuple[Served, str, Redirects]]:
    """A server with a live code and redirects running against it."""
    folder.mkdir()
    env = {"SCANLET_LOG_LEVEL": "warning"}
    if (pg := _postgres[0]) is not None:
        env["SCANLET_DB"] = pg.create(folder.name)
        env["SCANLET_SECRET_FILE"] = str(folder / "scanlet.key")
    with served(folder, env=env, core=SERVER_CORE) as running:
        token = running.create_code("live")
        redirects = Redirects(running.base)
        redirects.start()
        try:
            yield running, token, redirects
        finally:
            redirects.stop()


#: Where the import process runs: beside the redirect clients (``load``, the default: a
#: second core, as on any machine with two) or on the server's own core (``server``: the
#: one-core case, where the import and the redirects share one CPU).
_IMPORT_CORE = {"load": LOAD_CORE, "server": SERVER_CORE}
_placement = ["load"]


def _pin() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(_IMPORT_CORE[_placement[0]])})


def scanlet(running: Served, *args: str) -> subprocess.CompletedProcess[bytes]:
    """``scanlet ARGS`` run on ``running``'s database, output captured; a failure stops the
    benchmark with what the command said."""
    db = running.env.get("SCANLET_DB", str(running.folder / "scanlet.db"))
    done = subprocess.run(
        [sys.executable, "-m", "scanlet", *args, "--db", db],
        cwd=running.folder,
        capture_output=True,
        check=False,
        timeout=3600,
        preexec_fn=_pin,
    )
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise SystemExit(f"scanlet {args[0]} {args[1]} exited {done.returncode}: {said}")
    return done


#: How long the control phase keeps the import's core busy.
CONTROL_SECONDS = 10.0


def busy_import_core(redirects: Redirects) -> tuple[float, int, str]:
    """Redirects' p99 while a busy loop holds the import's core and nothing is imported:
    what the import's mere use of its core does to the measurement (the redirect clients
    run on the load core, as does the import unless ``--import-core server``). The loop
    runs at the import's own lowered priority (``scanlet.priority``)."""
    spin = "from scanlet.priority import lower_priority\nlower_priority()\nwhile True: pass"
    hog = subprocess.Popen([sys.executable, "-c", spin], preexec_fn=_pin)
    try:
        redirects.take()
        time.sleep(CONTROL_SECONDS)
        return redirects.take()
    finally:
        hog.kill()
        hog.wait()


def check_visible(running: Served, visits: int) -> None:
    """Stop the benchmark unless another process (this one) sees every imported visit in
    the log while the server still runs (SQLite). A server that lost its lock on the file
    once let an export delete the WAL under it: its later commits were visible to nobody
    else, and this benchmark's own export failed on it."""
    if _postgres[0] is not None:
        return
    with contextlib.closing(sqlite3.connect(running.folder / "scanlet.db")) as conn:
        (seen,) = conn.execute(
            "SELECT COUNT(*) FROM events WHERE type = 'scan.recorded' AND slug != 'live'"
        ).fetchone()
    if seen != visits:
        raise SystemExit(f"another process sees {seen} of the {visits} imported visits")


def timed(what: Callable[[], object]) -> float:
    started = time.perf_counter()
    what()
    return time.perf_counter() - started


def ingest(base: str, token: str, fake: FakeShlink, codes: list[str]) -> None:
    """The same visits as device events, to codes of the same slugs."""
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    events = [
        {"type": "scan", "id": str(uuid.uuid4()), "slug": slug, "occurred_at": visit["date"]}
        for slug in codes
        for visit in fake.visits[slug]
    ]
    bodies = [
        msgspec.json.encode({"events": events[i : i + INGEST_BATCH]})
        for i in range(0, len(events), INGEST_BATCH)
    ]
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:

        def send(body: bytes) -> None:
            client.post("/api/v1/events", content=body).raise_for_status()

        with ThreadPoolExecutor(max_workers=INGEST_CLIENTS) as pool:
            list(pool.map(send, bodies))


#: The phases, in the order they run.
PHASES = ("shlink", "archive", "ingest")
INGEST = "POST /api/v1/events"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visits", type=int, default=100_000)
    parser.add_argument("--codes", type=int, default=100)
    parser.add_argument("--import-core", choices=sorted(_IMPORT_CORE), default="load")
    parser.add_argument(
        "--boost-clients",
        action="store_true",
        help="run the redirect clients 10 steps above normal CPU priority (root only), as "
        "visitors on other machines would be",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="also measure redirects beside a busy loop on the import's core, no import",
    )
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help="the phases to run, comma-separated (the ratios need ingest; archive needs shlink)",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="a postgresql:// admin URL: each server on a new PostgreSQL database there",
    )
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    if phases - set(PHASES) or ("archive" in phases and "shlink" not in phases):
        parser.error(f"phases are some of {', '.join(PHASES)}; archive needs shlink")
    _placement[0] = args.import_core
    _boost[0] = args.boost_clients
    _postgres[0] = PgServer(args.db) if args.db else None
    try:
        run(args, phases)
    finally:
        if _postgres[0] is not None:
            _postgres[0].drop_all()


def run(args: argparse.Namespace, phases: set[str]) -> None:
    """The phases asked for, and their report."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(LOAD_CORE)})
    fake = fake_shlink(args.codes, args.visits)
    visits = sum(len(v) for v in fake.visits.values())
    slugs = [item["shortCode"] for item in fake.short_urls]
    with tempfile.TemporaryDirectory() as tmp, serving(fake) as shlink:
        folder = Path(tmp)
        results: list[tuple[str, float, float, int, str]] = []
        if "shlink" in phases:
            with server(folder / "shlink") as (running, _, redirects):
                time.sleep(2)
                alone = redirects.take()
                print(
                    f"redirects alone: p99 {alone[0]:.1f} ms over {alone[1]} requests; {alone[2]}"
                )
                if args.control:
                    busy = busy_import_core(redirects)
                    print(
                        f"redirects beside a busy loop on the import's core: p99 {busy[0]:.1f}"
                        f" ms over {busy[1]} requests; {busy[2]}"
                    )
                took = timed(
                    lambda: scanlet(
                        running,
                        "import",
                        "shlink",
                        "--url",
                        shlink,
                        "--api-key",
                        fake.key,
                        "--quiet",
                    )
                )
                results.append(("shlink import", visits / took, *redirects.take()))
                check_visible(running, visits)
                archive = folder / "scanlet.jsonl"
                if "archive" in phases:
                    exported = scanlet(running, "export", "archive", "--quiet").stdout
                    archive.write_bytes(exported)
        if "archive" in phases:
            with server(folder / "archive") as (running, _, redirects):
                took = timed(lambda: scanlet(running, "import", "archive", str(archive), "--quiet"))
                results.append(("archive import", visits / took, *redirects.take()))
                check_visible(running, visits)
        if "ingest" in phases:
            with server(folder / "ingest") as (running, token, redirects):
                for slug in slugs:
                    httpx.post(
                        f"{running.base}/api/v1/codes",
                        headers={"Authorization": f"Bearer {token}"},
                        json={"target": "https://example.com/", "slug": slug},
                    ).raise_for_status()
                redirects.take()
                took = timed(lambda: ingest(running.base, token, fake, slugs))
                results.append((INGEST, visits / took, *redirects.take()))
    baseline = {name: rate for name, rate, *_ in results}.get(INGEST)
    for name, rate, p99, count, errors in results:
        ratio = f"x{rate / baseline:.2f} of ingest" if baseline else ""
        print(
            f"{name:20} {rate:9.0f} visits/s  {ratio:16} "
            f"redirects meanwhile: p99 {p99:.1f} ms over {count}, {errors}",
            flush=True,
        )


if __name__ == "__main__":
    main()
