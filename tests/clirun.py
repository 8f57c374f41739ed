"""Running the real ``scanlet`` executable, as a user would, for the command-line tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ("SCANLET", "scanlet")

#: The console script installed beside this interpreter (``pip install -e .``).
SCANLET = str(Path(sys.executable).with_name("scanlet"))


def scanlet(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``scanlet ARGS`` in ``cwd``; stdin is empty (not a terminal) unless given."""
    return subprocess.run(
        [SCANLET, *args],
        cwd=cwd,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **(env or {})},
        timeout=timeout,
        check=False,
    )
