"""What open event streams cost the scan path: redirects with N live streams following.

Every committed scan is an event each open ``/api/v1/stream`` sends on, so the work of a
scan grows with the streams open. The script starts ``scanlet serve`` pinned to one core,
times redirects on new connections one after another (each answered before the next is
sent) with no stream open, then with ``--streams`` streams whose client reads everything
(integrations following the stream) and with as many that never read (a hostile client
holding them). It prints each phase's median, mean and p99, and the mean's and p99's ratios
to the phase without streams, measured in the same run, and checks that every reading
stream received every scan of its phase. Then wrk saturates the server for ``--wrk``
seconds with no stream open and with the reading streams open (redirects/s and p99, and
their ratio); the readers share wrk's core, so that ratio holds their reading too.

Run: python bench/streams.py [--streams 300] [--samples 300] [--server granian|uvicorn]
[--wrk 5]
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import statistics
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.attacks import open_stream, redirect_seconds
from tests.processes import Served, served
from tests.wrk import LOAD_CORE, SERVER_CORE, run_wrk

SLUG = "menu"
#: What every scan's frame holds once (its event type).
SCAN_MARK = b"event: scan.recorded"


class Readers:
    """One thread reading every stream's bytes as they come, counting scan frames."""

    def __init__(self, sockets: list[socket.socket]) -> None:
        self._selector = selectors.DefaultSelector()
        self.scans = dict.fromkeys(range(len(sockets)), 0)
        # A frame's mark may be split across two reads: keep each stream's tail.
        self._tails = dict.fromkeys(range(len(sockets)), b"")
        for n, sock in enumerate(sockets):
            sock.setblocking(False)
            self._selector.register(sock, selectors.EVENT_READ, n)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)
        self._thread.start()

    def _run(self) -> None:
        keep = len(SCAN_MARK) - 1
        while not self._stop.is_set():
            for key, _ in self._selector.select(0.05):
                n = key.data
                try:
                    data = key.fileobj.recv(1 << 16)  # type: ignore[union-attr]
                except BlockingIOError:
                    continue
                text = self._tails[n] + data
                self.scans[n] += text.count(SCAN_MARK)
                self._tails[n] = text[-keep:]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def streams(running: Served, token: str, count: int, read: bool) -> Iterator[Readers | None]:
    sockets = []
    for _ in range(count):
        sock, status = open_stream(running.base, token)
        sockets.append(sock)
        if status != 200:
            raise SystemExit(f"a stream was answered {status}: raise SCANLET_STREAM_LIMIT")
    readers = Readers(sockets) if read else None
    try:
        yield readers
    finally:
        if readers is not None:
            readers.stop()
        for sock in sockets:
            sock.close()


def timings(base: str, samples: int) -> tuple[float, float, float]:
    """Median, mean and p99 in ms of ``samples`` redirects, one after another."""
    seconds = [redirect_seconds(base, SLUG) for _ in range(samples)]
    return (
        statistics.median(seconds) * 1000,
        statistics.fmean(seconds) * 1000,
        statistics.quantiles(seconds, n=100)[98] * 1000,
    )


def report(what: str, taken: tuple[float, float, float], alone: tuple[float, float, float]) -> str:
    median, mean, p99 = taken
    line = f"  {what:<26} median {median:6.2f}  mean {mean:6.2f}  p99 {p99:6.2f} ms"
    if taken is not alone:
        line += f"   mean {mean / alone[1]:5.2f}x, p99 {p99 / alone[2]:5.2f}x of no stream"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=300)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--server", default="granian", choices=("granian", "uvicorn"))
    parser.add_argument("--wrk", type=int, default=5, metavar="SECONDS", help="0: no wrk phase")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(LOAD_CORE)})
    env = {
        "SCANLET_STREAM_LIMIT": str(args.streams + 10),
        "SCANLET_STREAM_LIMIT_PER_KEY": str(args.streams + 10),
        "SCANLET_LOG_LEVEL": "warning",
    }
    with (
        tempfile.TemporaryDirectory() as folder,
        served(Path(folder), server=args.server, env=env, core=SERVER_CORE) as running,
    ):
        running.create_code(SLUG)
        reader = running.key("read")
        timings(running.base, 30)  # warm up
        alone = timings(running.base, args.samples)
        print(f"{args.server}, server on one core, {args.samples} redirects one after another:")
        print(report("no stream open", alone, alone))
        for read in (True, False):
            with streams(running, reader, args.streams, read) as readers:
                taken = timings(running.base, args.samples)
                if readers is not None:
                    # The last scans' frames may still be on their way.
                    deadline = 100
                    while min(readers.scans.values()) < args.samples and deadline:
                        threading.Event().wait(0.1)
                        deadline -= 1
                    got = sorted(readers.scans.values())
            what = f"{args.streams} streams {'read' if read else 'never read'}"
            print(report(what, taken, alone))
            if read:
                verdict = "every stream" if got[0] >= args.samples else "NOT every stream"
                print(f"    {verdict} got every scan (fewest {got[0]}, most {got[-1]})")
        if args.wrk:
            url = f"{running.base}/{SLUG}"
            bare = run_wrk(url, seconds=args.wrk, connections=32)
            with streams(running, reader, args.streams, True):
                loaded = run_wrk(url, seconds=args.wrk, connections=32)
            print(f"  wrk, 32 connections, {args.wrk} s:")
            print(f"    no stream open     {bare.rps:8.0f} redirects/s  p99 {bare.p99_ms:7.2f} ms")
            print(
                f"    {args.streams} streams read  {loaded.rps:8.0f} redirects/s  p99"
                f" {loaded.p99_ms:7.2f} ms   {loaded.rps / bare.rps:5.2f}x the redirects/s"
            )
        alive = httpx.get(f"{running.base}/livez", timeout=10).status_code == 200
        print(f"  livez {'ok' if alive else 'FAILED'}")


if __name__ == "__main__":
    main()
