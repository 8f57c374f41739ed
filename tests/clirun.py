"""Running the real ``scanlet`` executable, as a user would, for the command-line tests."""

from __future__ import annotations

import fcntl
import os
import pty
import sqlite3
import struct
import subprocess
import sys
import termios
import uuid
from pathlib import Path
from typing import Literal

__all__ = ("SCANLET", "create_code", "database_content", "on_terminal", "scanlet")

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


def database_content(db: Path) -> list[str]:
    """Every row of every table of the SQLite database ``db``, as SQL: what a command that
    "changes nothing" must leave as it was (read in this process, not by another command,
    which costs a second of start-up on a busy machine)."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def create_code(folder: Path, slug: str, target: str, env: dict[str, str] | None = None) -> None:
    """``scanlet codes create TARGET --slug SLUG`` in ``folder``, which must succeed."""
    made = scanlet("codes", "create", target, "--slug", slug, cwd=folder, env=env)
    assert made.returncode == 0, made.stderr


def on_terminal(
    folder: Path, *args: str, stream: Literal["stdout", "stderr"] = "stdout"
) -> tuple[int, str, str]:
    """Run ``scanlet ARGS`` with ``stream`` (stdout or stderr) on a pseudo-terminal 120
    columns wide: (exit code, the other stream's text, what the terminal got). The other
    stream goes to a file, which never fills up while the terminal is read."""
    main, side = pty.openpty()
    # A new pseudo-terminal has no width, and progress bars fit theirs to it.
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    other_path = folder / f"{stream}-other-{uuid.uuid4().hex}"
    with other_path.open("wb") as other:
        out, err = (side, other.fileno()) if stream == "stdout" else (other.fileno(), side)
        proc = subprocess.Popen(
            [SCANLET, *args], cwd=folder, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
    os.close(side)
    drawn = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        drawn.append(chunk)
    os.close(main)
    code = proc.wait(timeout=60)
    return code, other_path.read_text(), b"".join(drawn).decode(errors="replace")
