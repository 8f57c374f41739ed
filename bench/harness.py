"""Shared pieces of the load benchmarks: pinned server processes and wrk runs.

Every benchmark measures its baseline in the same run and prints ratios, because this machine
is shared and absolute numbers drift from minute to minute.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

__all__ = ("WrkResult", "create_key", "free_port", "pinned_server", "run_wrk", "wait_http")

SERVER_CORE = "0"
LOAD_CORE = "1"


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def create_key(env: dict[str, str], scope: str = "write") -> str:
    """A new API key's token, made with ``scanlet keys create`` against ``env``'s database."""
    result = subprocess.run(
        [sys.executable, "-m", "scanlet", "keys", "create", "--name", "bench", "--scope", scope],
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Wait until ``url`` answers (any status), or fail if the process died."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def pinned_server(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    ready_url: str,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server pinned to SERVER_CORE until the block ends, then SIGTERM it."""
    taskset = ["taskset", "-c", SERVER_CORE] if shutil.which("taskset") else []
    proc = subprocess.Popen(
        [*taskset, *argv],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_http(ready_url, proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@dataclass(frozen=True)
class WrkResult:
    """What wrk reported for one run."""

    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency(text: str, pct: str) -> float:
    match = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE)
    if not match:
        raise RuntimeError(f"no {pct}% latency in wrk output:\n{text}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def run_wrk(url: str, *, seconds: int, connections: int = 64) -> WrkResult:
    """Drive ``url`` with wrk (one thread, pinned to LOAD_CORE) and parse its report."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    taskset = ["taskset", "-c", LOAD_CORE] if shutil.which("taskset") else []
    out = subprocess.run(
        [*taskset, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non_ok.group(1)) if non_ok else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return WrkResult(requests, rps, _latency(out, "50"), _latency(out, "99"), errors)
