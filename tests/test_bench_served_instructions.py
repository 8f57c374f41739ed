"""bench/served_instructions.py's parts, run without valgrind: its baseline server answers
redirects, its client counts every answer and refuses anything but a 302."""

import asyncio
import importlib
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.processes import free_port, served

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "served_instructions.py"


@pytest.fixture
def bench() -> Iterator[ModuleType]:
    """The script as a module; afterwards sys.path and sys.modules as they were (it puts
    bench/ first on sys.path, whose modules must not shadow any the session imports later)."""
    path, modules = list(sys.path), set(sys.modules)
    spec = importlib.util.spec_from_file_location("served_instructions", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            found = getattr(sys.modules[name], "__file__", None) or ""
            if found.startswith(str(SCRIPT.parent)):
                del sys.modules[name]


def test_the_baseline_server_answers_the_client_with_redirects(bench: ModuleType) -> None:
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--child-bare", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # The script put bench/ on sys.path, as each benchmark does for its own modules.
        harness = importlib.import_module("harness")
        harness.wait_http(f"http://127.0.0.1:{port}/bench", child)
        asyncio.run(bench._send(port, 40))
    finally:
        child.terminate()
        child.wait(timeout=30)


def test_the_client_refuses_an_answer_that_is_not_a_redirect(
    bench: ModuleType, tmp_path: Path
) -> None:
    # A Scanlet without the code: every request is a 404.
    with served(tmp_path) as server, pytest.raises(bench.NotARedirect, match="not a redirect"):
        asyncio.run(bench._send(server.port, 16))
