"""The open-files limit ``serve`` needs: raised for its connections, never lowered, and
clients that only connect cannot use up a server started under a low soft limit."""

from __future__ import annotations

import resource
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scanlet.serving.open_files import OWN_FILES, open_files_for
from tests.processes import served

LOW = 256


@pytest.fixture
def limits() -> Iterator[None]:
    kept = resource.getrlimit(resource.RLIMIT_NOFILE)
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, kept)


def test_the_soft_limit_is_raised_for_the_connections_and_never_lowered(limits: None) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1000 + OWN_FILES
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip("this machine's hard limit is below what the test asks")
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW, hard))
    assert open_files_for(1000) == wanted
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (wanted, hard)
    assert open_files_for(10) == wanted  # already enough: left as it is


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs util-linux's prlimit")
def test_a_hard_limit_too_low_is_kept_and_said() -> None:
    """In a child process: a hard limit, once lowered, stays lowered."""
    probe = (
        "import resource; from scanlet.serving.open_files import open_files_for; "
        "print(open_files_for(10_000), resource.getrlimit(resource.RLIMIT_NOFILE))"
    )
    done = subprocess.run(
        ["prlimit", f"--nofile={LOW}:{LOW * 2}", "--", sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines()[-1] == f"{LOW * 2} ({LOW * 2}, {LOW * 2})"
    assert "open files limit below the connections allowed" in done.stdout + done.stderr


def _soft_limit(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no open files limit")


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="needs util-linux's prlimit")
@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_clients_that_only_connect_cannot_use_up_a_server_started_low(
    tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096 + OWN_FILES:
        pytest.skip("this machine's hard limit is below the default connections")
    popen = subprocess.Popen

    def low_soft_limit(argv: list[str], **options: object) -> subprocess.Popen[bytes]:
        if argv[-2:] == ["scanlet", "serve"]:
            argv = ["prlimit", f"--nofile={LOW}:{hard}", "--", *argv]
        return popen(argv, **options)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(subprocess, "Popen", low_soft_limit)
    with served(tmp_path, server=server) as running:
        monkeypatch.undo()
        running.create_code("live")
        assert _soft_limit(running.proc.pid) >= 4096 + OWN_FILES
        host, port = running.base.removeprefix("http://").split(":")
        idle: list[socket.socket] = []
        try:
            idle.extend(socket.create_connection((host, int(port))) for _ in range(LOW * 2))
            time.sleep(0.5)  # accepted, each a descriptor of the server's
            assert httpx.get(f"{running.base}/live", timeout=10).status_code == 302
        finally:
            for sock in idle:
                sock.close()
