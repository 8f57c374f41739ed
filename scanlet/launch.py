"""The ``scanlet`` executable's entry point (and ``python -m scanlet``'s).

Some libraries wire in optional integrations whenever another library happens to be
installed: structlog imports rich (for its tracebacks) and its Twisted support, httpcore
imports trio, httpx its own command line with rich and pygments. Scanlet uses none of them,
yet on a machine that has them installed (the test tools bring all three) they were a
fifth of every command's start-up: ``scanlet codes list`` took 0.72-1.07 s with them and
0.61-0.65 s without (three runs each, measured here). The entry point marks them as absent
before anything is imported, which each of those libraries handles as "not installed".
Only this process is affected: code importing ``scanlet`` as a library keeps them.
"""

from __future__ import annotations

import sys

__all__ = ("UNUSED_INTEGRATIONS", "main")

#: Libraries that other libraries import only to offer integrations Scanlet never uses.
UNUSED_INTEGRATIONS = ("rich", "trio", "twisted")


def main() -> int:
    """Run the command line without the unused integrations; returns the exit code."""
    for name in UNUSED_INTEGRATIONS:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]
    # Imported here, after the marks above, on purpose.
    from scanlet.cli import main as run

    return run()
