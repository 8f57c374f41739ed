"""Helpers for tests that run real ``scanlet`` processes on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

__all__ = ("create_key", "free_port", "wait_ready")


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
