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

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterable, Sequence

import anyio
import msgspec
import structlog
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream
from prometheus_client import CollectorRegistry, Counter

from scanlet.actors.analytics.facts import Agent
from scanlet.adapters.user_agents import AgentKey, describe_agent, remember, undescribed
from scanlet.priority import lower_priority

__all__ = ("MIN_AGENTS", "AgentWorker", "main")

log = structlog.get_logger("scanlet.agent_worker")

#: Fewer new agents than this are described on the loop: a round trip to the worker costs
#: about as much as parsing a handful.
MIN_AGENTS = 16
#: The longest a batch's verdicts may take (a few hundred agents take tens of ms).
ANSWER_SECONDS = 10.0
#: Pauses before starting a worker again after it failed, doubled up to the last.
RESTART_PAUSES = (1.0, 60.0)
#: The largest frame either side accepts (a batch of agents of at most 256 characters).
MAX_FRAME = 16 * 1024 * 1024
_HEADER = 4

_agents = msgspec.msgpack.Decoder(list[tuple[str, bool]])
_verdicts = msgspec.msgpack.Decoder(list[Agent])
_encode = msgspec.msgpack.Encoder().encode
#: What a worker that died, hung or spoke nonsense raises on the server's side: OSError
#: covers TimeoutError (no answer in time), and ValueError a wrong reply and an agent that
#: cannot be sent (UnicodeEncodeError: a lone surrogate has no UTF-8; the log's JSON holds
#: none).
_WORKER_FAILURES = (
    OSError,
    ValueError,
    msgspec.DecodeError,
    anyio.EndOfStream,
    anyio.IncompleteRead,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
)


def _frame(body: bytes) -> bytes:
    return len(body).to_bytes(_HEADER, "big") + body


def main() -> None:
    """The worker process: verdicts for each frame of agents, until stdin closes."""
    # Ctrl-C reaches the whole process group: the server stops, closing our stdin, and that
    # is how the worker ends (without a traceback of its own).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Parsing waits for the server, not the server for parsing (see scanlet.priority).
    lower_priority()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        header = stdin.read(_HEADER)
        if len(header) < _HEADER:
            return
        size = int.from_bytes(header, "big")
        if size > MAX_FRAME:
            sys.exit(f"agent worker: frame of {size} bytes refused")
        pairs = _agents.decode(stdin.read(size))
        stdout.write(_frame(_encode([describe_agent(a, expect_agent=e) for a, e in pairs])))
        stdout.flush()


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
        self.command = list(command or [sys.executable, "-m", "scanlet.adapters.agent_worker"])
        self.answer_seconds = answer_seconds
        self.min_agents = min_agents
        self._described, self._failures = _counters(registry)
        self._process: Process | None = None
        self._replies: BufferedByteReceiveStream | None = None
        self._lock = anyio.Lock()
        self._closed = False
        self._next_start = 0.0
        self._pause = RESTART_PAUSES[0]

    async def prefetch(self, agents: Iterable[tuple[str | None, bool]]) -> int:
        """Have the worker describe those of ``agents`` (text, expected) not cached yet,
        when there are enough to be worth the trip, and cache its verdicts; how many it
        described (0: the fold describes them itself, as without a worker)."""
        missing = undescribed(agents)
        if len(missing) < self.min_agents or self._closed:
            return 0
        async with self._lock:
            verdicts = await self._ask(missing)
        if verdicts is None:
            return 0
        for key, verdict in zip(missing, verdicts, strict=True):
            remember(key, verdict)
        self._described.inc(len(verdicts))
        return len(verdicts)

    async def _ask(self, keys: list[AgentKey]) -> list[Agent] | None:
        if self._process is None and not await self._start():
            return None
        answered = False
        try:
            verdicts = await self._exchange(keys)
            answered = True
        except _WORKER_FAILURES as exc:
            self._failed("agent worker failed; describing on the loop", repr(exc))
            return None
        finally:
            # Failed, or cancelled half-way through a frame: the pipe cannot be trusted.
            if not answered:
                await self._stop()
        self._pause = RESTART_PAUSES[0]
        return verdicts

    async def _exchange(self, keys: list[AgentKey]) -> list[Agent]:
        assert self._process is not None
        assert self._process.stdin is not None
        assert self._replies is not None
        with anyio.fail_after(self.answer_seconds):
            await self._process.stdin.send(_frame(_encode(keys)))
            size = int.from_bytes(await self._replies.receive_exactly(_HEADER), "big")
            if size > MAX_FRAME:
                raise ValueError(f"a reply of {size} bytes")
            verdicts = _verdicts.decode(await self._replies.receive_exactly(size))
        if len(verdicts) != len(keys):
            raise ValueError(f"{len(verdicts)} verdicts for {len(keys)} agents")
        return verdicts

    async def _start(self) -> bool:
        if anyio.current_time() < self._next_start:
            return False
        try:
            self._process = await anyio.open_process(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None
            )
        except OSError as exc:
            self._failed("agent worker did not start", str(exc))
            return False
        assert self._process.stdout is not None
        self._replies = BufferedByteReceiveStream(self._process.stdout)
        log.info("agent worker started", pid=self._process.pid)
        return True

    def _failed(self, what: str, error: str) -> None:
        """Count and log a failure, and start no worker for a pause that doubles each time."""
        self._failures.inc()
        log.warning(what, error=error)
        self._next_start = anyio.current_time() + self._pause
        self._pause = min(2 * self._pause, RESTART_PAUSES[1])

    async def _stop(self) -> None:
        process, self._process, self._replies = self._process, None, None
        if process is None:
            return
        with anyio.CancelScope(shield=True):
            # Closing stdin ends it; one that does not end within a second is killed.
            if process.stdin is not None:
                with contextlib.suppress(OSError, anyio.BrokenResourceError):
                    await process.stdin.aclose()
            with anyio.move_on_after(1.0):
                await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()
            await process.aclose()

    async def aclose(self) -> None:
        """Stop the worker; later prefetches leave every agent to the fold."""
        self._closed = True
        async with self._lock:
            await self._stop()


if __name__ == "__main__":
    main()
