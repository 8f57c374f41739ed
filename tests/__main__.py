"""The whole suite, as CI runs it: ``python -m tests [PYTEST ARGS]``.

The test files run on pytest-xdist (four processes, a file to one process at a time), and
the API conformance module runs alongside in a pytest of its own: schemathesis gives all
its per-operation tests one node id, and pytest-xdist, which keys tests by node id, ran
only one of them. Run one after the other, the two took 15:49 and 2:38 on a CI machine
here, whose two cores the test files kept only about two-thirds busy. The conformance
output follows the other's; the exit code is the first failure's (0 if neither failed).
Extra arguments go to the test files' run.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile

PYTEST = [sys.executable, "-m", "pytest"]
FILES = [*PYTEST, "-n", "4", "--dist", "loadfile", "--ignore=tests/conformance"]
CONFORMANCE = [*PYTEST, "tests/conformance"]


def main() -> int:
    with tempfile.TemporaryFile("w+") as output:
        conformance = subprocess.Popen(CONFORMANCE, stdout=output, stderr=subprocess.STDOUT)
        try:
            files = subprocess.call([*FILES, *sys.argv[1:]])
        finally:
            ended = conformance.wait()
        output.seek(0)
        print("\n== tests/conformance (run alongside)", flush=True)
        sys.stdout.write(output.read())
    return files or ended


if __name__ == "__main__":
    sys.exit(main())
