"""Describing user agents in a process of its own, so that parsing them leaves the loop free.

An import brings thousands of agents never seen before, and parsing each costs about 55 us
of ua-parser and crawlerdetect: on the server's loop that was most of the analytics
follower's time during an import (py-spy: 42 % of the main thread), and every redirect
waited behind it. Before a batch is folded, the follower hands the batch's agents that are
not cached yet to this worker and awaits its verdicts, which go into the describer's cache
(``user_agents.remember``); the fold then finds every agent described. Meanwhile the loop
serves, and the worker runs on a second core where the machine has one (or shares the
server's core with it, preempted whenever a request wakes the loop).

The worker holds nothing but a parser: it reads frames of agents on stdin and writes
frames of verdicts on stdout, and exits when stdin closes (its server stopped or died,
``kill -9`` included). So nothing about exactly-once projection depends on it: when it is
slow, dies or cannot start, the batch's agents are described on the loop as before, and
it is started again after a pause. A frame is a 4-byte big-endian length and a msgpack
body.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterable, Sequence

import msgspec
import structlog
from prometheus_client import CollectorRegistry, Counter

from scanlet.actors.analytics.facts import Agent
from scanlet.adapters.framed_child import FramedChild, read_frame, write_frame
from scanlet.adapters.user_agents import AgentKey, describe_agent, remember, undescribed
from scanlet.priority import idle_priority

__all__ = ("COMMAND", "MIN_AGENTS", "AgentWorker", "main", "serve")

log = structlog.get_logger("scanlet.agent_worker")

#: Fewer new agents than this are described on the loop: a round trip to the worker costs
#: about as much as parsing a handful.
MIN_AGENTS = 16
#: The longest a batch's verdicts may take (a few hundred agents take tens of ms).
ANSWER_SECONDS = 10.0
#: How the server starts the worker: ``main``, in the idle scheduling class.
COMMAND = (sys.executable, "-m", "scanlet.adapters.agent_worker")

_agents = msgspec.msgpack.Decoder(list[tuple[str, bool]])
_verdicts = msgspec.msgpack.Decoder(list[Agent])
_encode = msgspec.msgpack.Encoder().encode


def main() -> None:
    """The worker process: verdicts for each frame of agents, until stdin closes."""
    # Ctrl-C reaches the whole process group: the server stops, closing our stdin, and that
    # is how the worker ends (without a traceback of its own).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Parsing waits for the server, not the server for parsing (see scanlet.priority).
    idle_priority()
    serve()


def serve() -> None:
    """Verdicts for each frame of agents on stdin, until it closes, at the priority the
    process has (``main`` lowers it first; a test on a busy machine may not, as an idle-class
    process there can wait longer than any deadline for its first turn)."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (request := read_frame(stdin)) is not None:
        pairs = _agents.decode(request)
        write_frame(stdout, _encode([describe_agent(a, expect_agent=e) for a, e in pairs]))


def _counters(registry: CollectorRegistry | None) -> tuple[Counter, Counter]:
    described = Counter(
        "scanlet_agent_worker_described",
        "User agents described by the agent worker process.",
        registry=registry,
    )
    failures = Counter(
        "scanlet_agent_worker_failures",
        "Times the agent worker failed to answer (its agents were described on the loop).",
        registry=registry,
    )
    return described, failures


class AgentWorker:
    """The server's side of the worker: started on first need, restarted after a pause."""

    def __init__(
        self,
        *,
        command: Sequence[str] | None = None,
        registry: CollectorRegistry | None = None,
        answer_seconds: float = ANSWER_SECONDS,
        min_agents: int = MIN_AGENTS,
    ) -> None:
        self.min_agents = min_agents
        self._described, failures = _counters(registry)
        self._child = FramedChild(
            command or COMMAND,
            name="agent worker",
            failures=failures,
            answer_seconds=answer_seconds,
        )

    @property
    def pid(self) -> int | None:
        """The running worker's process id (None: none runs)."""
        return self._child.pid

    async def prefetch(self, agents: Iterable[tuple[str | None, bool]]) -> int:
        """Have the worker describe those of ``agents`` (text, expected) not cached yet,
        when there are enough to be worth the trip, and cache its verdicts; how many it
        described (0: the fold describes them itself, as without a worker)."""
        missing = undescribed(agents)
        if len(missing) < self.min_agents or self._child.closed:
            return 0

        def decode(reply: bytes) -> list[Agent]:
            verdicts = _verdicts.decode(reply)
            if len(verdicts) != len(missing):
                raise ValueError(f"{len(verdicts)} verdicts for {len(missing)} agents")
            return verdicts

        verdicts = await self._child.ask(missing, decode)
        if verdicts is None:
            return 0
        key: AgentKey
        for key, verdict in zip(missing, verdicts, strict=True):
            remember(key, verdict)
        self._described.inc(len(verdicts))
        return len(verdicts)

    async def aclose(self) -> None:
        """Stop the worker; later prefetches leave every agent to the fold."""
        await self._child.aclose()


if __name__ == "__main__":
    main()
