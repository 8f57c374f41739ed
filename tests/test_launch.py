"""The executable's entry point keeps unused optional integrations out of its start-up."""

import importlib.util
import subprocess
import sys

import pytest

from scanlet.launch import UNUSED_INTEGRATIONS
from tests.clirun import SCANLET

_PROBE = """
import sys
from scanlet.launch import main
sys.argv = ["scanlet", "--help"]
try:
    main()
except SystemExit as exit:
    code = exit.code
loaded = sorted(n for n in sys.modules if n.split(".")[0] in {names!r} and sys.modules[n])
print(code, loaded)
"""


def test_the_command_line_starts_without_the_integrations_it_never_uses() -> None:
    installed = [n for n in UNUSED_INTEGRATIONS if importlib.util.find_spec(n) is not None]
    if not installed:
        pytest.skip("none of the integrations is installed here: nothing to keep out")
    # Imported as a library, structlog and httpx do bring them in where installed...
    plain = subprocess.run(
        [sys.executable, "-c", "import structlog, httpx, sys; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert any(f"'{name}'" in plain.stdout for name in installed)
    # ... and the entry point runs the whole command line without them.
    probe = _PROBE.format(names=set(UNUSED_INTEGRATIONS))
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert ran.stdout.split("\n")[-2] == "0 []", ran.stderr


def test_python_dash_m_and_the_executable_run_the_same_program() -> None:
    for command in ([sys.executable, "-m", "scanlet", "--version"], [SCANLET, "--version"]):
        ran = subprocess.run(command, capture_output=True, text=True, check=False, env=None)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.startswith("scanlet "), ran.stdout
