"""An import runs below a server's CPU priority (``scanlet.priority``) unless told
``--full-priority``, seen through the executable while it waits for its source."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

from scanlet.priority import BACKGROUND_NICENESS
from tests.clirun import SCANLET, scanlet
from tests.importing.fakes import Answer, FakeShlink, serving
from tests.processes import niceness


@pytest.mark.parametrize("full", [False, True])
def test_an_import_lowers_its_own_priority_and_completes(tmp_path: Path, full: bool) -> None:
    fake = FakeShlink()
    fake.add("menu", "https://example.com/menu", visits=3)
    asked, release = threading.Event(), threading.Event()

    def held(path: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        asked.set()
        release.wait(30)
        return fake(path, query, headers)

    env = {"SCANLET_DB": str(tmp_path / "scanlet.db")}
    assert scanlet("migrate", cwd=tmp_path, env=env).returncode == 0
    with serving(held) as url:
        importing = subprocess.Popen(
            [SCANLET, "import", "shlink", "--url", url, "--api-key", fake.key, "--quiet"]
            + (["--full-priority"] if full else []),
            cwd=tmp_path,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert asked.wait(30), "the import never asked its source"
            seen = niceness(importing.pid)
        finally:
            release.set()
            _, said = importing.communicate(timeout=60)
    assert importing.returncode == 0, said
    assert seen == (os.nice(0) if full else min(19, os.nice(0) + BACKGROUND_NICENESS))
