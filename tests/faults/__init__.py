"""Fault scenarios against real ``scanlet serve`` processes on 127.0.0.1.

Each scenario runs in an empty folder it is given and returns a frozen result holding its
figures and ``passed``, whether the promise held:

- ``run_kill9``: SIGKILL at random moments under load, round after round; nothing
  acknowledged is lost.
- ``run_sigterm``: SIGTERM under load; drained within the graceful timeout, exit 0.
- ``run_overload``: wrk with thousands of connections; bounded RSS, 503s, recovery.
- ``run_restart``: a big unapplied log; time to ready, also after kill -9 mid catch-up.

Every loop is bounded in count and in time. ``bench/faults.py`` runs them in full and prints
the figures; ``tests/reliability/test_fault_scripts.py`` runs quick kill9 and sigterm ones.
"""

from tests.faults.kill9 import Kill9Plan, Kill9Result, Kill9Round, run_kill9
from tests.faults.overload import OverloadPlan, OverloadResult, run_overload
from tests.faults.restart import RestartPlan, RestartResult, run_restart
from tests.faults.sigterm import SigtermPlan, SigtermResult, run_sigterm

__all__ = (
    "Kill9Plan",
    "Kill9Result",
    "Kill9Round",
    "OverloadPlan",
    "OverloadResult",
    "RestartPlan",
    "RestartResult",
    "SigtermPlan",
    "SigtermResult",
    "run_kill9",
    "run_overload",
    "run_restart",
    "run_sigterm",
)
