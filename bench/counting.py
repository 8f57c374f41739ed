"""Counting a benchmark's child process under callgrind: start it, read its total.

``bench/instructions.py`` and ``bench/catch_up.py`` run copies of themselves as children
(``--child ...``) under callgrind and subtract one child's instructions from another's;
this starts such a child and reads what callgrind collected.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

__all__ = ("collected", "counted_child")

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def counted_child(script: str, *args: str) -> subprocess.Popen[str]:
    """``script`` with ``args`` under callgrind (no output file: only its total, on stderr),
    with a fixed hash seed so that dicts and sets do the same work in every child."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        script,
        *args,
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def collected(process: subprocess.Popen[str], what: str) -> int:
    """The instructions the child ``process`` ran; exits with its last lines if it failed."""
    _, errors = process.communicate()
    found = _COLLECTED.findall(errors)
    if process.returncode != 0 or not found:
        tail = "\n".join(errors.strip().splitlines()[-5:])
        sys.exit(f"{what}: callgrind gave no count (exit {process.returncode}):\n{tail}")
    return int(found[-1])
