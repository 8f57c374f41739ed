"""SIGTERM under load: the server drains what it accepted, answers it, and exits 0.

Besides the load, one client stops half-way through its request body: the drain must not
wait for it beyond the graceful timeout (``SCANLET_SHUTDOWN_TIMEOUT``).
"""

from __future__ import annotations

import random
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from tests.faults._clients import Tally, await_answers, clients, create_code
from tests.faults._database import follower_lag, stored
from tests.faults._server import database, make_key, start

__all__ = ("SigtermPlan", "SigtermResult", "run_sigterm")


@dataclass(frozen=True)
class SigtermPlan:
    """How much load, for how long before the SIGTERM, and the drain allowed."""

    clients: int = 8
    #: Seconds of load before the SIGTERM, drawn uniformly between the two; they count from
    #: the clients' first answers (as many as there are clients).
    min_wait: float = 1.0
    max_wait: float = 2.0
    #: SCANLET_SHUTDOWN_TIMEOUT, the graceful timeout.
    timeout: float = 3.0
    #: Seconds allowed past the timeout: then the actors drain and stop, the process exits.
    margin: float = 3.0


@dataclass(frozen=True)
class SigtermResult:
    """The figures of one SIGTERM under load."""

    plan: SigtermPlan
    server: str
    exit_code: int
    #: From the SIGTERM to the exit.
    drain_seconds: float
    #: Answers the clients got, by status.
    statuses: dict[int, int]
    #: Requests that got no answer, by kind of error ("connect refused" once the server
    #: stopped listening).
    transport_errors: dict[str, int]
    acked_scans: int
    acked_events: int
    #: Acknowledged redirects and events not in the database.
    lost: int
    #: Accepted (their effect is stored) yet the client got no answer: the drain dropped them.
    unanswered_stored: int
    #: Log followers not at the log's end after the exit, with how far behind.
    followers_behind: dict[str, int]
    integrity: str

    @property
    def answered(self) -> int:
        """Requests that got an answer, whatever its status."""
        return sum(self.statuses.values())

    @property
    def five_xx(self) -> int:
        """Answers with a 5xx status."""
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def passed(self) -> bool:
        """Exit 0 within the timeout and margin, no 5xx, nothing lost or dropped, followers
        at the log's end, integrity ok."""
        return (
            self.exit_code == 0
            and self.drain_seconds <= self.plan.timeout + self.plan.margin
            and self.five_xx == 0
            and self.lost == 0
            and self.unanswered_stored == 0
            and not self.followers_behind
            and self.integrity == "ok"
        )


def run_sigterm(
    folder: Path,
    plan: SigtermPlan | None = None,
    *,
    server: str = "granian",
    core: str | None = None,
    seed: int | None = None,
) -> SigtermResult:
    """SIGTERM one server under load in ``folder`` (empty, it holds the database and
    ``server.log``) and check the drain."""
    plan = plan or SigtermPlan()
    db = database(folder)
    token = make_key(folder)
    tally = Tally()
    env = {"SCANLET_SHUTDOWN_TIMEOUT": str(plan.timeout)}
    with start(folder, server=server, core=core, env=env) as running:
        create_code(running.base, token)
        with socket.create_connection(("127.0.0.1", running.port)) as stuck:
            stuck.sendall(
                f"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{".encode()
            )
            wait = random.Random(seed).uniform(plan.min_wait, plan.max_wait)
            with clients(running.base, token, server, tally, plan.clients, wait + 60) as stop:
                await_answers(tally, plan.clients, timeout=30)
                time.sleep(wait)
                began = time.monotonic()
                code = running.terminate(timeout=plan.timeout + 30)
                seconds = time.monotonic() - began
                stop.set()
    after = stored(db)
    return SigtermResult(
        plan=plan,
        server=server,
        exit_code=code,
        drain_seconds=seconds,
        statuses=dict(sorted(tally.statuses.items())),
        transport_errors=dict(tally.errors),
        acked_scans=len(tally.acked_scans),
        acked_events=len(tally.acked_events),
        lost=len(tally.acked_scans - after.agents) + len(tally.acked_events - after.ids),
        unanswered_stored=len(tally.unanswered_scans & after.agents)
        + len(tally.unanswered_events & after.ids),
        followers_behind=follower_lag(db),
        integrity=after.integrity,
    )
