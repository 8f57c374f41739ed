"""The cell: one named actor's mailbox, its current instance and the task that runs it.

A cell outlives restarts: each start builds a fresh instance from the factory and runs it in a
new task (an "incarnation") inside the supervisor's task group. The receive loop handles every
queued message back to back without yielding when handlers do not suspend, and yields every
`YIELD_EVERY` messages so a busy actor cannot starve the others.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
import structlog
from opentelemetry import trace as otel

from ._errors import ActorCrashed, ActorStopped
from ._mailbox import Envelope, Exit, Lane, Mailbox, acting_cell
from ._metrics import LATENCY_BUCKETS
from ._ref import ActorRef
from ._trace import current_trace, parent_context, trace_of_span
from ._types import ActorState, StopReason

if TYPE_CHECKING:
    from ._actor import Actor
    from ._supervisor import ChildSpec, Supervisor
    from ._system import ActorSystem

__all__ = ("YIELD_EVERY", "Cell", "Failure")

#: Messages handled back to back before the receive loop yields to the event loop.
YIELD_EVERY = 64

_log = structlog.get_logger(__package__)
_perf = time.perf_counter


class Failure:
    """A handler that raised, with the envelope it was handling."""

    __slots__ = ("env", "exc")

    def __init__(self, env: Envelope[Any] | None, exc: Exception) -> None:
        self.env = env
        self.exc = exc


class Cell:
    """Runtime side of one named actor (the supervisor's child)."""

    def __init__(self, spec: ChildSpec, supervisor: Supervisor, system: ActorSystem) -> None:
        self.name = spec.name
        self.spec = spec
        self.restart = spec.restart
        self.supervisor = supervisor
        self.system = system
        self.mailbox = Mailbox(
            spec.name,
            spec.mailbox_capacity,
            system.dead_letters,
            ask_timeout=system.ask_timeout,
            otel=system.tracer is not None,
            deadlines=system.deadlines,
        )
        self.ref: ActorRef[Any] = ActorRef(self)
        self.state = ActorState.STARTING
        # Bumped on every start and halt: an exit report from an older incarnation is stale.
        self.generation = 0
        self._tracer = system.tracer
        self._span_name = f"actor.{spec.name}"
        self._done: anyio.Event | None = None
        self._scope: anyio.CancelScope | None = None
        self._busy = False
        # Exit reports still being handled by the supervisor (restart decisions, backoff):
        # the cell is not idle until they are settled, so wait_idle() sees their outcome.
        self._pending_exits = 0
        self._idle_waiters: list[asyncio.Future[None]] = []
        self._taken: list[Envelope[Any]] | None = None
        self._for_good = False
        self._interrupted: Envelope[Any] | None = None

    # --- lifecycle driven by the supervisor ---------------------------------------------

    @property
    def is_running(self) -> bool:
        """True while an incarnation is alive."""
        return self._done is not None and not self._done.is_set()

    async def start(self) -> None:
        """Build a fresh instance and run it; returns after on_start, raising its exception."""
        self.generation += 1
        self.mailbox.control.clear()
        actor = self.spec.factory()
        actor.ref = self.ref
        actor.system = self.system
        actor._cell = self
        started: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        self._done = anyio.Event()
        self._busy = True
        self.state = ActorState.STARTING
        self.supervisor.task_group.start_soon(
            self._live, actor, self.generation, self._done, started, name=f"actor {self.name}"
        )
        error = await started
        if error is not None:
            raise error

    async def halt(self, *, for_good: bool = False) -> None:
        """Stop the running instance after its current message, keeping the mailbox.

        Waits up to the spec's `stop_timeout`, then cancels the handler. ``for_good``: no
        start follows (``on_stop`` is told ``TERMINATED``).
        """
        self._for_good = for_good
        self.generation += 1
        done = self._done
        if done is None or done.is_set():
            return
        self.mailbox.put_control(Exit.HALTED)
        with anyio.move_on_after(self.spec.stop_timeout):
            await done.wait()
        if not done.is_set():
            if self._scope is not None:
                self._scope.cancel()
            await done.wait()

    def close(self, reason: str, error: BaseException | None, state: ActorState) -> None:
        """Stop taking messages for good and settle what is queued (see Mailbox.close)."""
        if self.state is not ActorState.FAILED:
            self.state = state
        self.mailbox.close(reason, error)
        self._wake_idle()

    async def terminate(self) -> None:
        """Stop for good; from the actor's own task, after the current message."""
        if acting_cell.get() is self:
            self.mailbox.put_control(Exit.TERMINATED)
            return
        await self.supervisor.terminate_child(self)

    def count_restart(self) -> None:
        """Count one restart of this actor."""
        self.mailbox.restarts += 1

    def request_exit(self) -> None:
        """Ask the current instance to exit normally after the current message."""
        self.mailbox.put_control(Exit.NORMAL)

    # --- idleness (ActorSystem.wait_idle) -------------------------------------------------

    def is_idle(self) -> bool:
        """True when no handler runs, no restart decision is pending, and nothing is queued
        or nothing can be handled: a halted instance whose supervisor gave up keeps its
        queue until a start that may be minutes away, and waiting for it would hold up a
        drain for nothing."""
        if self._busy or self._pending_exits:
            return False
        return not self.mailbox.queue or not self.is_running

    async def wait_idle(self) -> None:
        """Wait until the mailbox is empty and no handler runs."""
        while not self.is_idle():
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._idle_waiters.append(waiter)
            await waiter

    def _wake_idle(self) -> None:
        waiters, self._idle_waiters = self._idle_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # --- group handling (Actor.take_queued) -----------------------------------------------

    def take_queued(self, limit: int) -> list[Envelope[Any]]:
        """Pop up to `limit` queued envelopes for the running handler; they count as handled."""
        mb = self.mailbox
        taken = mb.take(limit)
        if taken:
            now = _perf()
            for env in taken:
                waited = now - env.enqueued_at
                mb.wait_counts[bisect_left(LATENCY_BUCKETS, waited)] += 1
                mb.wait_sum += waited
            mb.handled += len(taken)
            if self._taken is None:
                self._taken = taken
            else:
                self._taken.extend(taken)
        return taken

    # --- the incarnation task -------------------------------------------------------------

    async def _live(
        self,
        actor: Actor[Any],
        generation: int,
        done: anyio.Event,
        started: asyncio.Future[Exception | None],
    ) -> None:
        acting_cell.set(self)
        # The task inherited the spawner's context; handlers must not see the spawner's trace.
        current_trace.set(None)
        outcome: Exception | Exit | None = None
        report = False
        try:
            outcome = await self._run(actor, started)
        finally:
            self._busy = False
            self._taken = None
            if not started.done():
                started.set_result(ActorStopped(self.name, "stopped while starting"))
            done.set()
            # A failure or an exit of its own goes to the supervisor; a halt was its order.
            report = outcome is not None and outcome is not Exit.HALTED
            if report:
                self._pending_exits += 1
            else:
                self._wake_idle()
        if report:
            assert outcome is not None
            try:
                await self.supervisor.child_exited(self, generation, outcome)
            finally:
                self._pending_exits -= 1
                if self.is_idle():
                    self._wake_idle()

    async def _run(
        self, actor: Actor[Any], started: asyncio.Future[Exception | None]
    ) -> Exception | Exit | None:
        result: Failure | Exit = Exit.HALTED
        running = False
        with anyio.CancelScope() as scope:
            self._scope = scope
            try:
                await actor.on_start()
            except Exception as exc:
                self.mailbox.failures += 1
                _log.error("actor_start_failed", actor=self.name, error=repr(exc), exc_info=exc)
                # The starter raises it and decides (spawn fails, or the supervisor counts it).
                started.set_result(exc)
                return None
            self.state = ActorState.RUNNING
            running = True
            started.set_result(None)
            result = await self._serve(actor)
        if not running:
            return None  # halted while starting: on_start never finished, so no on_stop
        if scope.cancelled_caught:
            self._settle_interrupted()
        if isinstance(result, Failure):
            self._handle_failure(result)
        with anyio.move_on_after(self.spec.stop_timeout):
            try:
                await actor.on_stop(self._stop_reason(result))
            except Exception as exc:
                _log.error("actor_stop_failed", actor=self.name, error=repr(exc), exc_info=exc)
        if self.state is ActorState.RUNNING:
            self.state = ActorState.STARTING
        return result.exc if isinstance(result, Failure) else result

    def _stop_reason(self, result: Failure | Exit) -> StopReason:
        if isinstance(result, Failure):
            return StopReason.FAILED
        if result is Exit.HALTED:
            if self.system.shutting_down:
                return StopReason.SHUTDOWN
            return StopReason.TERMINATED if self._for_good else StopReason.HALTED
        return StopReason.EXITED if result is Exit.NORMAL else StopReason.TERMINATED

    async def _serve(self, actor: Actor[Any]) -> Failure | Exit:
        # Hot loop: locals for everything touched per message (see bench/runtime.py).
        mb = self.mailbox
        queue = mb.queue
        control = mb.control
        handle = actor.on_message
        refusals = actor.refuses
        traced = self._tracer is not None
        wait_counts = mb.wait_counts
        handle_counts = mb.handle_counts
        bounds = LATENCY_BUCKETS
        perf = _perf
        new_future = asyncio.get_running_loop().create_future
        budget = YIELD_EVERY
        while True:
            if control:
                return control.popleft()
            if not queue:
                self._busy = False
                if self._idle_waiters:
                    self._wake_idle()
                # Park until a message or control command arrives. Inline rather than a
                # Mailbox coroutine: one frame less per wake-up. A cancelled getter left
                # behind is harmless, since senders skip done futures.
                getter = new_future()
                mb.getter = getter
                await getter
                mb.getter = None
                self._busy = True
                budget = YIELD_EVERY
                continue
            env = queue.popleft()
            if mb.putters:
                mb.wake_putter()
            future = env._future
            if future is not None and future.done():
                continue  # the asker timed out or was cancelled: nobody wants this reply
            start = perf()
            try:
                if env.trace is None and not traced:
                    result = await handle(env.message)
                else:
                    result = await self._handle_traced(handle, env)
            except Exception as exc:
                if not isinstance(exc, refusals):
                    return Failure(env, exc)
                self._refuse(env, exc)
                continue
            except asyncio.CancelledError:
                self._interrupted = env
                raise
            end = perf()
            if future is not None and not future.done():
                future.set_result(result)
            if self._taken is not None:
                self._taken = None
            mb.handled += 1
            waited = start - env.enqueued_at
            wait_counts[bisect_left(bounds, waited)] += 1
            mb.wait_sum += waited
            spent = end - start
            handle_counts[bisect_left(bounds, spent)] += 1
            mb.handle_sum += spent
            budget -= 1
            if not budget:
                budget = YIELD_EVERY
                await asyncio.sleep(0)

    async def _handle_traced(
        self, handle: Callable[[Any], Awaitable[Any]], env: Envelope[Any]
    ) -> Any:
        tracer = self._tracer
        if tracer is None:
            assert env.trace is not None
            token = current_trace.set(env.trace.child())
            try:
                return await handle(env.message)
            finally:
                current_trace.reset(token)
        with tracer.start_as_current_span(
            self._span_name,
            context=parent_context(env._span, env.trace),
            kind=otel.SpanKind.CONSUMER,
            attributes={"actor.name": self.name, "actor.ask": env.is_ask},
        ) as span:
            token = current_trace.set(trace_of_span(span))
            try:
                return await handle(env.message)
            finally:
                current_trace.reset(token)

    # --- failure bookkeeping --------------------------------------------------------------

    def _refuse(self, env: Envelope[Any], exc: Exception) -> None:
        """A handler refused its message (one of the actor's ``refuses`` types): the asker,
        and every taken ask still unanswered, gets the exception; the actor carries on."""
        mb = self.mailbox
        mb.handled += 1
        mb.refusals += 1
        envs = [env]
        if self._taken is not None:
            envs.extend(self._taken)
            self._taken = None
        for refused in envs:
            if refused._future is None:
                mb.dead_letter(refused.message, "refused", exc)
            else:
                refused.fail(exc)

    def _handle_failure(self, failure: Failure) -> None:
        """Count and log a handler failure, then answer, retry or dead-letter its messages.

        Asks get ActorCrashed (caused by the exception) at once and are not retried, so an
        asker can tell "the actor failed on my request" from a refusal; tells go back to the
        front of the mailbox for the next instance until `max_attempts`, then become dead
        letters.
        """
        mb = self.mailbox
        exc = failure.exc
        mb.failures += 1
        _log.error("actor_failed", actor=self.name, error=repr(exc), exc_info=exc)
        envs = [] if failure.env is None else [failure.env]
        if self._taken is not None:
            envs.extend(self._taken)
            self._taken = None
        retry: list[Envelope[Any]] = []
        for env in envs:
            if env._future is not None:
                crashed = ActorCrashed(self.name, f"failed on the message: {exc!r}")
                crashed.__cause__ = exc
                env.fail(crashed)
                continue
            env._attempts += 1
            if env._attempts >= self.spec.max_attempts or mb.lane is Lane.CLOSED:
                mb.dead_letter(env.message, "failed", exc)
            else:
                retry.append(env)
        mb.queue.extendleft(reversed(retry))

    def _settle_interrupted(self) -> None:
        env, self._interrupted = self._interrupted, None
        if env is None:
            return
        if env._future is not None:
            detail = "was stopped while handling the message"
            stopping = self.system.shutting_down
            env.fail(
                ActorStopped(self.name, detail) if stopping else ActorCrashed(self.name, detail)
            )
        else:
            self.mailbox.dead_letter(env.message, "interrupted")
        if self._taken is not None:
            for taken in self._taken:
                self.mailbox.settle(taken, "interrupted", None)
            self._taken = None
