"""wrk runs, pinned to the load core, for the overload fault scenario and ``bench/``.

The load benchmarks and ``tests/faults`` split this 2-core machine alike: the server on
``SERVER_CORE``, the load on ``LOAD_CORE``. No test in the suite runs wrk (it is not a Python
package); the benchmarks import this module with the repository root on ``sys.path``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ("LOAD_CORE", "SERVER_CORE", "WrkMissing", "WrkResult", "run_wrk")

SERVER_CORE = "0"
LOAD_CORE = "1"


class WrkMissing(RuntimeError):
    """Raised when the ``wrk`` command is not installed."""

    def __init__(self) -> None:
        super().__init__("wrk is not installed: apt-get install wrk")


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


def _count(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    if not match:
        raise RuntimeError(f"no {pattern!r} in wrk output:\n{text}")
    return match.group(1)


def run_wrk(
    url: str, *, seconds: int, connections: int = 64, headers: Sequence[str] = ()
) -> WrkResult:
    """Drive ``url`` with wrk (one thread, pinned to LOAD_CORE) and parse its report;
    ``headers`` (``"Host: links.example"``) go with every request.

    ``errors`` adds the non-2xx/3xx answers and the socket errors wrk counted."""
    if shutil.which("wrk") is None:
        raise WrkMissing
    taskset = ["taskset", "-c", LOAD_CORE] if shutil.which("taskset") else []
    out = subprocess.run(
        [
            *taskset,
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            *(flag for header in headers for flag in ("-H", header)),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    requests = int(_count(r"(\d+) requests in", out))
    rps = float(_count(r"Requests/sec:\s+([\d.]+)", out))
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non_ok.group(1)) if non_ok else 0
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return WrkResult(requests, rps, _latency(out, "50"), _latency(out, "99"), errors)
