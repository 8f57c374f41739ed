"""Instructions a redirect costs a served process, the HTTP server's own work included.

``bench/instructions.py`` counts a scan straight into the ASGI app and so leaves the ASGI
server out; ``bench/redirect.py`` measures the whole of it with wrk, within this shared
machine's noise. This one runs each server under callgrind (user-space instructions: the
server's Rust, the interpreter, SQLite; not the kernel's), warms it up, zeroes the counts
(``callgrind_control -z``), sends ``--requests`` redirects over 16 keep-alive connections,
waits ``--settle`` seconds, dumps the counts (``callgrind_control -d``) and divides: one
server at a time, after counting what it does idle (timers, checkpoints) for ``--settle``
seconds, which is taken off in proportion to the loaded window's length. The servers:
- "bare": bench/bare_app.py, the Starlette app redirecting from a dict, served by granian's
  embedded server over ASGI, as ``scanlet serve`` embeds it (the baseline);
- "core": ``scanlet serve`` with SCANLET_FEATURES=none.
No whole product: its projection catches up at most every 10 ms of wall time, and under
valgrind (tens of times slower) each catch-up then folds a scan or two, so what every
catch-up costs whatever its size swamps the figure (measured: 487k-534k instructions a
redirect, against 85k more than the scan path in process); bench/instructions.py, which
waits for the projection in process, counts that.
Every server of a run starts at once (instruction counts do not depend on what else runs).
For an A/B, run each checkout's own copy of this script.

Run: python bench/served_instructions.py [--requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.processes import create_key, free_port, wait_ready  # noqa: E402

VARIANTS = ("bare", "core")
CONNECTIONS = 16
WARM_UP = 800
SLUG = "bench"
AGENT = b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148"


class NotARedirect(Exception):
    """A server answered something else: the run measures nothing."""


async def _send(port: int, total: int) -> None:
    """``total`` GET /bench over CONNECTIONS keep-alive connections; every answer a 302."""
    request = b"GET /%s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: %s\r\n\r\n" % (
        SLUG.encode(),
        AGENT,
    )

    async def connection(count: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in range(count):
                writer.write(request)
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 302"):
                    raise NotARedirect(f"not a redirect: {head[:60]!r}")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                if length:
                    await reader.readexactly(length)
        finally:
            writer.close()

    each, extra = divmod(total, CONNECTIONS)
    counts = [each + (1 if n < extra else 0) for n in range(CONNECTIONS)]
    await asyncio.gather(*(connection(count) for count in counts if count))


def _bare_child(port: int) -> None:
    """The baseline server: granian's embedded server, ASGI, bench/bare_app.py."""
    import uvloop
    from bare_app import app
    from granian.constants import HTTPModes, Interfaces
    from granian.server.embed import Server

    async def serve() -> None:
        server = Server(
            app,
            address="127.0.0.1",
            port=port,
            interface=Interfaces.ASGI,
            http=HTTPModes.http1,
            websockets=False,
            log_enabled=False,
        )
        await server.serve()

    uvloop.run(serve())


class Counted:
    """One server under callgrind, its counts written under ``folder``."""

    def __init__(self, variant: str, folder: Path) -> None:
        self.variant = variant
        self.folder = folder
        self.port = free_port()
        self.out = folder / "callgrind.out"
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        if variant == "bare":
            argv = [sys.executable, __file__, "--child-bare", str(self.port)]
        else:
            argv = [sys.executable, "-m", "scanlet", "serve"]
            env.update(
                SCANLET_PORT=str(self.port),
                SCANLET_LOG_LEVEL="warning",
                SCANLET_FEATURES="none",
                SCANLET_DB=str(folder / "scanlet.db"),
                SCANLET_SECRET_FILE=str(folder / "scanlet.key"),
            )
        self.env = env
        self.proc = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={self.out}", *argv],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(folder / "server.log").open("wb"),
        )

    def ready(self) -> None:
        """Wait until it answers; create the code for a Scanlet."""
        base = f"http://127.0.0.1:{self.port}"
        if self.variant == "bare":
            from harness import wait_http

            wait_http(f"{base}/{SLUG}", self.proc, timeout=300)
            return
        import httpx

        wait_ready(base, self.proc, deadline=300)
        token = create_key(self.folder, "write", self.env, "bench")
        httpx.post(
            f"{base}/api/v1/codes",
            headers={"Authorization": f"Bearer {token}"},
            json={"target": "https://example.com/landing", "slug": SLUG},
            timeout=120,
        ).raise_for_status()

    def control(self, option: str) -> None:
        subprocess.run(
            ["callgrind_control", option, str(self.proc.pid)], check=True, capture_output=True
        )

    def dumped(self, number: int) -> int:
        """The instructions of the ``number``-th dump taken."""
        dump = Path(f"{self.out}.{number}")
        if dump.exists():
            for line in dump.read_text().splitlines():
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
        raise SystemExit(f"{self.variant}: no callgrind dump in {self.folder}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def _drive(server: Counted, requests: int) -> None:
    """``requests`` redirects to ``server``; exit with a one-line message on another answer."""
    try:
        asyncio.run(_send(server.port, requests))
    except NotARedirect as exc:
        sys.exit(f"{server.variant}: {exc}")


def main() -> None:
    """Count each server's instructions a redirect; print them and the scan path's ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--child-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_bare:
        _bare_child(args.child_bare)
        return
    if args.requests < CONNECTIONS:
        parser.error(f"--requests must be at least {CONNECTIONS}")
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        servers = []
        for name in VARIANTS:
            folder = Path(tmp) / name
            folder.mkdir()
            server = Counted(name, folder)
            stack.callback(server.stop)
            servers.append(server)
        for server in servers:
            server.ready()
            _drive(server, WARM_UP)
        time.sleep(args.settle)
        counts = {}
        for server in servers:
            # One server at a time. Idle first: what its timers cost (checkpoints, the
            # doorbells) in a second of this machine under valgrind, taken off the loaded
            # window below in proportion to its length.
            server.control("-z")
            time.sleep(args.settle)
            server.control("-d")
            idle_rate = server.dumped(1) / args.settle
            server.control("-z")
            started = time.monotonic()
            _drive(server, args.requests)
            time.sleep(args.settle)
            server.control("-d")
            window = time.monotonic() - started
            counts[server.variant] = (server.dumped(2) - idle_rate * window) / args.requests
    for name, count in counts.items():
        print(f"{name:5} {count / 1000:8.1f}k instructions a redirect ({args.requests} sent)")
    print(f"ratio core/bare: {counts['bare'] / counts['core']:.3f} (as throughput: bare = 1)")


if __name__ == "__main__":
    main()
