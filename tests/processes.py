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
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ("Served", "create_key", "free_port", "served", "wait_ready")


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(base: str, proc: subprocess.Popen[bytes], deadline: float = 30.0) -> None:
    """Poll ``/readyz`` until it answers 200 (start-up, not a timed assertion)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early with {proc.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
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
    """A running ``scanlet serve``: its base URL, process, folder and environment."""

    base: str
    proc: subprocess.Popen[bytes]
    folder: Path
    env: dict[str, str]

    def key(self, scope: str = "write", name: str = "test") -> str:
        """A new API key on the served database."""
        return create_key(self.folder, scope, self.env, name)

    @property
    def log(self) -> str:
        """What the server wrote to stderr so far."""
        return (self.folder / "server.log").read_text(errors="replace")


@contextmanager
def served(
    folder: Path,
    *,
    server: str = "granian",
    env: Mapping[str, str] | None = None,
    core: str | None = None,
    stop_timeout: float = 30.0,
) -> Iterator[Served]:
    """Run ``scanlet serve`` in ``folder`` on a free port until the block ends, then SIGTERM
    it (SIGKILL after ``stop_timeout``). ``core`` pins it to one CPU (benchmarks). Its log
    goes to ``folder/server.log``: a pipe nobody reads could fill up and stall it."""
    port = free_port()
    full_env = {
        **os.environ,
        "SCANLET_PORT": str(port),
        "SCANLET_LOG_FORMAT": "json",
        "SCANLET_SERVER": server,
        **(env or {}),
    }
    pin = ["taskset", "-c", core] if core is not None and shutil.which("taskset") else []
    log = (folder / "server.log").open("ab")
    proc = subprocess.Popen(
        [*pin, sys.executable, "-m", "scanlet", "serve"],
        cwd=folder,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, proc)
        yield Served(base, proc, folder, full_env)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
