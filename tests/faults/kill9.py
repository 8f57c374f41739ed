"""kill -9 under load, round after round: nothing acknowledged may be lost.

Each round starts the server (on the same port, as a service restarts), drives it with
clients for a random while and SIGKILLs it in the middle of their requests; the lock file the
killed process held is freed by the kernel, so the next start takes it at once. At the end a
last server hears every acknowledged event again (each must come back ``duplicate``) and
stops on SIGTERM.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.faults._clients import Tally, clients, create_code, resend_duplicates
from tests.faults._database import stored
from tests.faults._server import STOP_TIMEOUT, database, make_key, start
from tests.processes import free_port

__all__ = ("Kill9Plan", "Kill9Result", "Kill9Round", "run_kill9")


@dataclass(frozen=True)
class Kill9Plan:
    """How many kills, under how much load."""

    rounds: int = 10
    clients: int = 4
    #: Seconds of load before each kill, drawn uniformly between the two.
    min_wait: float = 0.5
    max_wait: float = 2.0


@dataclass(frozen=True)
class Kill9Round:
    """One start, load and SIGKILL."""

    #: Counted from 1.
    number: int
    #: Seconds of load before the SIGKILL.
    killed_after: float
    #: Redirects answered 302 and device events answered ``accepted`` in this round.
    acked_scans: int
    acked_events: int
    #: From starting the restarted process to /readyz 200 (0.0 in the first round, whose
    #: server was started fresh before the kills began).
    ready_seconds: float
    #: ``PRAGMA integrity_check`` right after the kill.
    integrity: str


@dataclass(frozen=True)
class Kill9Result:
    """The figures of a kill9 run. Acknowledged is a set (each redirect has its own
    User-Agent, each event its own id); stored is its intersection with the database, lost
    the difference."""

    plan: Kill9Plan
    rounds: tuple[Kill9Round, ...]
    acked_scans: int
    stored_scans: int
    lost_scans: int
    #: Redirects cut off by a kill (no answer): they may or may not be stored.
    unanswered_scans: int
    unanswered_scans_stored: int
    acked_events: int
    stored_events: int
    lost_events: int
    #: The statuses of every acknowledged event sent again after the last restart.
    resent: dict[str, int]
    #: ``PRAGMA integrity_check`` after the final stop.
    integrity: str
    #: Of the final SIGTERM (reported; not part of the promise).
    exit_code: int

    @property
    def not_duplicate(self) -> int:
        """Resent events that did not come back ``duplicate``."""
        return sum(n for status, n in self.resent.items() if status != "duplicate")

    @property
    def passed(self) -> bool:
        """Nothing acknowledged lost, every resent event a duplicate, integrity ok after
        every kill and at the end."""
        return (
            all(r.integrity == "ok" for r in self.rounds)
            and self.lost_scans == 0
            and self.lost_events == 0
            and self.not_duplicate == 0
            and self.integrity == "ok"
        )


def run_kill9(
    folder: Path,
    plan: Kill9Plan | None = None,
    *,
    server: str = "granian",
    core: str | None = None,
    seed: int | None = None,
    on_round: Callable[[Kill9Round], None] | None = None,
) -> Kill9Result:
    """SIGKILL the server at random moments under load, in ``folder`` (empty, it holds the
    database and ``server.log``). ``on_round`` hears each round as it ends."""
    plan = plan or Kill9Plan()
    db = database(folder)
    rng = random.Random(seed)
    token = make_key(folder)
    tally = Tally()
    port = free_port()
    rounds: list[Kill9Round] = []
    for number in range(plan.rounds):
        began = time.monotonic()
        with start(folder, server=server, core=core, port=port) as running:
            ready = time.monotonic() - began if number else 0.0
            if number == 0:
                create_code(running.base, token)
            before = (len(tally.acked_scans), len(tally.acked_events))
            wait = rng.uniform(plan.min_wait, plan.max_wait)
            with clients(running.base, token, f"r{number}", tally, plan.clients, wait + 10):
                time.sleep(wait)
                running.kill()
        done = Kill9Round(
            number=number + 1,
            killed_after=wait,
            acked_scans=len(tally.acked_scans) - before[0],
            acked_events=len(tally.acked_events) - before[1],
            ready_seconds=ready,
            integrity=stored(db).integrity,
        )
        rounds.append(done)
        if on_round is not None:
            on_round(done)
    with start(folder, server=server, core=core, port=port) as running:
        again = resend_duplicates(running.base, token, list(tally.acked_events))
        code = running.terminate(STOP_TIMEOUT)
    after = stored(db)
    return Kill9Result(
        plan=plan,
        rounds=tuple(rounds),
        acked_scans=len(tally.acked_scans),
        stored_scans=len(tally.acked_scans & after.agents),
        lost_scans=len(tally.acked_scans - after.agents),
        unanswered_scans=len(tally.unanswered_scans),
        unanswered_scans_stored=len(tally.unanswered_scans & after.agents),
        acked_events=len(tally.acked_events),
        stored_events=len(tally.acked_events & after.ids),
        lost_events=len(tally.acked_events - after.ids),
        resent=dict(again),
        integrity=after.integrity,
        exit_code=code,
    )
