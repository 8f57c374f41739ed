"""Helpers that run real ``scanlet`` processes on loopback, for tests and benchmarks.

``served`` is the one way to start ``scanlet serve`` as a process: tests and the scripts in
``bench/`` use it alike (benchmarks import it with the repository root on ``sys.path``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ("Served", "create_key", "free_port", "scanning", "served", "wait_ready")

# Plays systemd's part for socket activation: the listening socket, inherited under its own
# number, becomes fd 3 with LISTEN_FDS=1 and LISTEN_PID the pid that then runs ``scanlet
# serve`` (execv keeps the pid, so only a process already started can name it).
_EXEC_WITH_FD3 = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3); os.environ['LISTEN_FDS'] = '1'; "
    "os.environ['LISTEN_PID'] = str(os.getpid()); "
    "os.execv(sys.executable, [sys.executable, '-m', 'scanlet', 'serve'])"
)


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(base: str, proc: subprocess.Popen[bytes], deadline: float = 30.0) -> None:
    """Poll ``/readyz`` until it answers 200 (start-up, not a timed assertion).

    Every 20 ms: the fault scenarios report how long a restart took to get ready."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early with {proc.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    raise AssertionError("server did not become ready")


def create_key(
    folder: Path, scope: str = "write", env: Mapping[str, str] | None = None, name: str = "test"
) -> str:
    """A new API key's token, from ``scanlet keys create`` run in ``folder``."""
    result = subprocess.run(
        [sys.executable, "-m", "scanlet", "keys", "create", "--name", name, "--scope", scope],
        cwd=folder,
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip().splitlines()[-1]


@dataclass(frozen=True)
class Served:
    """A running ``scanlet serve``: its base URL, process, folder, environment and log file."""

    base: str
    proc: subprocess.Popen[bytes]
    folder: Path
    env: dict[str, str]
    log_path: Path

    @property
    def port(self) -> int:
        """The port it serves on, on 127.0.0.1."""
        return int(self.base.rsplit(":", 1)[1])

    def key(self, scope: str = "write", name: str = "test") -> str:
        """A new API key on the served database."""
        return create_key(self.folder, scope, self.env, name)

    def create_code(self, slug: str, target: str = "https://example.com/") -> str:
        """Create the code ``slug`` with a new write key; the key."""
        token = self.key(name="bench")
        httpx.post(
            f"{self.base}/api/v1/codes",
            headers={"Authorization": f"Bearer {token}"},
            json={"target": target, "slug": slug},
        ).raise_for_status()
        return token

    def ingest(self, token: str, slug: str, count: int, note: int = 100) -> None:
        """``count`` device scans of ``slug``, 1000 a request, each with ``note`` characters
        of data (so that listings and exports of them weigh something)."""
        with httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {token}"}) as api:
            for start in range(0, count, 1000):
                events = [
                    {
                        "type": "scan",
                        "id": str(uuid.uuid4()),
                        "slug": slug,
                        "occurred_at": f"2026-11-30T10:{n // 1000 % 60:02d}:00Z",
                        "device_id": "gate-7",
                        "data": {"note": "x" * note},
                    }
                    for n in range(start, min(start + 1000, count))
                ]
                answer = api.post("/api/v1/events", json={"events": events}, timeout=30)
                assert answer.status_code == 200, answer.text

    def wait_projected(self, token: str, slug: str, scans: int, timeout: float = 60.0) -> None:
        """Until the analytics projection counts ``scans`` scans of ``slug`` (those of
        ``ingest``, on 2026-11-30); its lag gauge is no proof, being set after each
        catch-up, which may have run before the newest commits."""
        url = f"{self.base}/api/v1/codes/{slug}/stats"
        query = {
            "from": "2026-11-30T00:00:00Z",
            "to": "2026-12-01T00:00:00Z",
            "include_bots": "true",
        }
        auth = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = httpx.get(url, params=query, headers=auth)
            assert answer.status_code == 200, answer.text
            if answer.json()["total"] >= scans:
                return
            time.sleep(0.2)
        raise AssertionError(f"the analytics projection did not count {scans} scans in {timeout} s")

    @property
    def log(self) -> str:
        """What the server wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace")

    def kill(self) -> int:
        """SIGKILL, no grace; returns the exit code (``-9``)."""
        self.proc.kill()
        return self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait for the exit code; SIGKILL after ``timeout`` seconds (and then
        the code is ``-9``, which no caller takes for a clean drain)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return self.kill()


@contextmanager
def served(
    folder: Path,
    *,
    server: str = "granian",
    env: Mapping[str, str] | None = None,
    core: str | None = None,
    stop_timeout: float = 30.0,
    port: int | None = None,
    listener: socket.socket | None = None,
    log: Path | None = None,
    ready: bool = True,
) -> Iterator[Served]:
    """Run ``scanlet serve`` in ``folder`` until the block ends, then SIGTERM it if it still
    runs (SIGKILL after ``stop_timeout``).

    It listens on ``port`` (a free one by default: a restart may pass the previous one), or
    serves ``listener``, a listening socket it inherits as systemd passes one (fd 3,
    ``LISTEN_FDS``). ``core`` pins it to one CPU (benchmarks). Its stdout and stderr go to
    ``log`` (``folder/server.log`` by default), appended: a pipe nobody reads could fill up
    and stall it. The block starts once ``/readyz`` answers 200, or at once with
    ``ready=False`` (a server that waits for the database lock another one holds).
    """
    if listener is not None and port is not None:
        raise ValueError("a served process listens on a port or an inherited socket, not both")
    full_env = {
        **os.environ,
        "SCANLET_LOG_FORMAT": "json",
        "SCANLET_SERVER": server,
        **(env or {}),
    }
    pin = ["taskset", "-c", core] if core is not None and shutil.which("taskset") else []
    if listener is None:
        port = free_port() if port is None else port
        full_env["SCANLET_PORT"] = str(port)
        argv = [*pin, sys.executable, "-m", "scanlet", "serve"]
        inherited: tuple[int, ...] = ()
    else:
        port = listener.getsockname()[1]
        argv = [*pin, sys.executable, "-c", _EXEC_WITH_FD3, str(listener.fileno())]
        inherited = (listener.fileno(),)
    log_path = folder / "server.log" if log is None else log
    with log_path.open("ab") as output:
        proc = subprocess.Popen(
            argv,
            cwd=folder,
            env=full_env,
            pass_fds=inherited,
            stdout=output,
            stderr=output,
        )
    running = Served(f"http://127.0.0.1:{port}", proc, folder, full_env, log_path)
    try:
        if ready:
            wait_ready(running.base, proc)
        yield running
    finally:
        if proc.poll() is None:
            running.terminate(stop_timeout)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not reaped by its new parent, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def niceness(pid: int) -> int:
    """A running process's niceness (the 19th field of its ``stat``)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def assert_child_ends_with_its_parent(
    argv: list[str], env: Mapping[str, str] | None = None
) -> None:
    """Run ``argv``, a program that starts a child process and prints ``worker PID`` once it
    runs; kill it with SIGKILL and check that the child ends within 10 s (orphaned, it must
    notice its parent's end by itself)."""
    parent = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert parent.stdout is not None
        line = ""
        while not line.startswith("worker "):
            line = parent.stdout.readline()  # structlog's default output shares stdout
            assert line, "the parent ended before its worker started"
        child = int(line.split()[1])
        assert alive(child)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(child)
    finally:
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


@contextmanager
def scanning(running: Served, slug: str = "live") -> Iterator[list[int]]:
    """A code ``slug`` on ``running``, scanned by a thread one request after another until
    the block ends; yields the statuses answered so far (the list grows meanwhile)."""
    running.create_code(slug)
    statuses: list[int] = []
    stop = threading.Event()

    def scan() -> None:
        with httpx.Client(base_url=running.base, timeout=30) as client:
            while not stop.is_set():
                statuses.append(client.get(f"/{slug}", follow_redirects=False).status_code)

    scanner = threading.Thread(target=scan)
    scanner.start()
    try:
        yield statuses
    finally:
        stop.set()
        scanner.join(60)
