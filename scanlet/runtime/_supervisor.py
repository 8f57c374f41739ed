"""Supervision: specs, strategies, restart intensity and backoff, nested supervisors.

A supervisor owns its children in its own task group, starts them in order, stops them in
reverse order and restarts them per strategy after a backoff. Every lifecycle change of its
children happens under one lock, so a failure report, a spawn and a shutdown never interleave.
Too many restarts within the window: it stops its children and escalates to its parent (which
restarts it as a unit, per its own policy) or, at the top, marks the system failed.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import structlog
from anyio.abc import TaskGroup, TaskStatus

from ._errors import ActorStopped, SupervisionFailed
from ._mailbox import Exit
from ._types import ActorState, RandomFn

if TYPE_CHECKING:
    from ._actor import Actor
    from ._ref import ActorRef
    from ._system import ActorSystem

__all__ = (
    "Backoff",
    "ChildSpec",
    "Restart",
    "Strategy",
    "Supervisor",
    "SupervisorRef",
    "SupervisorSpec",
)

_log = structlog.get_logger(__package__)


class Strategy(enum.Enum):
    """Which children restart when one fails."""

    ONE_FOR_ONE = "one_for_one"  # only the failed child
    ONE_FOR_ALL = "one_for_all"  # every child
    REST_FOR_ONE = "rest_for_one"  # the failed child and those started after it


class Restart(enum.Enum):
    """When a child is restarted."""

    PERMANENT = "permanent"  # always, after a failure or a normal exit (stop_self)
    TRANSIENT = "transient"  # only after a failure
    TEMPORARY = "temporary"  # never


@dataclass(frozen=True)
class Backoff:
    """Delay before a restart: `min` doubled per recent restart, capped at `max`, +/- jitter.

    `jitter` is a fraction: 0.2 spreads each delay uniformly over +/-20%.
    """

    min: float = 0.05
    max: float = 5.0
    jitter: float = 0.2

    def delay(self, attempt: int, rand: RandomFn) -> float:
        """Seconds to wait before restart number `attempt` (1-based) of the current window."""
        base = min(self.max, self.min * 2.0 ** max(0, attempt - 1))
        if self.jitter:
            base *= 1.0 + self.jitter * (2.0 * rand() - 1.0)
        return max(0.0, min(self.max, base))


@dataclass(frozen=True)
class ChildSpec:
    """How to build and run one actor.

    `max_attempts` bounds how many times a tell whose handler raised is tried in total before
    it becomes a dead letter. The default, 1, never retries: a message that crashed an actor
    is most likely to crash the next instance too (OTP drops it the same way).
    `stop_timeout` bounds how long a stop waits for the current handler (and for on_stop)
    before cancelling it.
    """

    name: str
    factory: Callable[[], Actor[Any]]
    restart: Restart = Restart.PERMANENT
    mailbox_capacity: int = 1024
    max_attempts: int = 1
    stop_timeout: float = 5.0


@dataclass(frozen=True)
class SupervisorSpec:
    """Strategy, restart intensity (`max_restarts` within `within` seconds) and backoff.

    `forget_stopped` is for supervisors of dynamic children (one per resource): a child that
    stops for good without failing (through its ref, or exiting when not to be restarted)
    leaves the system's registry, so it no longer shows in `health()` or in the metrics and
    its name is free. Children of other supervisors stay listed as "stopped".
    """

    strategy: Strategy = Strategy.ONE_FOR_ONE
    max_restarts: int = 5
    within: float = 10.0
    backoff: Backoff = Backoff()
    forget_stopped: bool = False


class Child(Protocol):
    """What a supervisor needs from a child: an actor cell or a nested supervisor."""

    name: str
    restart: Restart
    generation: int

    @property
    def is_running(self) -> bool:
        """True while the child runs."""
        ...

    async def start(self) -> None:
        """Start (again) from fresh instances; raises when a start fails."""
        ...

    async def halt(self, *, for_good: bool = False) -> None:
        """Stop running, keeping mailboxes for a later start (none when ``for_good``)."""
        ...

    def close(self, reason: str, error: BaseException | None, state: ActorState) -> None:
        """Stop for good and settle queued messages."""
        ...

    def count_restart(self) -> None:
        """Add one to the restart counter(s)."""
        ...


class Supervisor:
    """Runtime side of a supervisor; reached by users through `SupervisorRef`."""

    task_group: TaskGroup

    def __init__(
        self,
        name: str,
        spec: SupervisorSpec,
        system: ActorSystem,
        parent: Supervisor | None,
        restart: Restart = Restart.PERMANENT,
    ) -> None:
        self.name = name
        self.spec = spec
        self.system = system
        self.parent = parent
        self.restart = restart
        self.generation = 0
        self.children: list[Child] = []
        self._lock = anyio.Lock()
        self._restarts: deque[float] = deque()
        # Set to cut backoff waits short (give-up, halt by the parent, shutdown).
        self._interrupt = anyio.Event()
        # Bumped whenever pending restarts must be abandoned.
        self._epoch = 0
        self._running = True
        self._stopping = False
        self._closed = anyio.Event()
        #: Times this supervisor exceeded its restart intensity and gave up.
        self.give_ups = 0

    async def host(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Own the children's task group until shutdown (runs in the parent's group)."""
        async with anyio.create_task_group() as tg:
            self.task_group = tg
            task_status.started()
            await self._closed.wait()
            tg.cancel_scope.cancel()

    # --- spawning -------------------------------------------------------------------------

    async def spawn(self, spec: ChildSpec) -> ActorRef[Any]:
        """Start an actor as the last child; returns after its on_start (raising its error)."""
        from ._cell import Cell

        async with self._lock:
            self._check_open(spec.name)
            cell = Cell(spec, self, self.system)
            self.system._register(cell)
            self.children.append(cell)
        # Started outside the lock: on_start may itself spawn (which takes the lock).
        try:
            await cell.start()
        except BaseException:
            if cell in self.children:
                self.children.remove(cell)
            cell.close("stopped", None, ActorState.STOPPED)
            self.system._unregister(cell)
            raise
        return cell.ref

    async def spawn_supervisor(
        self, name: str, spec: SupervisorSpec, *, restart: Restart = Restart.PERMANENT
    ) -> SupervisorRef:
        """Start a nested supervisor as the last child."""
        async with self._lock:
            self._check_open(name)
            sup = Supervisor(name, spec, self.system, self, restart)
            self.system._register_supervisor(sup)
            await self.task_group.start(sup.host)
            self.children.append(sup)
        return SupervisorRef(sup)

    def _check_open(self, name: str) -> None:
        if self._stopping or not self._running or self.system.shutting_down:
            raise ActorStopped(name, "cannot start: its supervisor is stopping")

    # --- failure handling -----------------------------------------------------------------

    async def child_exited(self, child: Child, generation: int, outcome: Exception | Exit) -> None:
        """Handle a child that failed or exited on its own: restart, remove or escalate."""
        failed = isinstance(outcome, Exception)
        error = outcome if isinstance(outcome, Exception) else None
        async with self._lock:
            if generation != child.generation or self._stopping or child not in self.children:
                return  # stale: the child was halted or restarted meanwhile
            if outcome is Exit.TERMINATED or not self._wants_restart(child, failed):
                self.children.remove(child)
                state = ActorState.FAILED if failed else ActorState.STOPPED
                child.close("crashed" if failed else "stopped", error, state)
                if not failed:
                    self._forget(child)
                return
            now = self.system.clock()
            while self._restarts and now - self._restarts[0] > self.spec.within:
                self._restarts.popleft()
            if len(self._restarts) >= self.spec.max_restarts:
                give_up = True
            else:
                give_up = False
                self._restarts.append(now)
                attempt = len(self._restarts)
                group = self._group_for(child)
                for sibling in reversed(group):
                    if sibling is not child:
                        await sibling.halt()
                epoch = self._epoch
        if give_up:
            await self._give_up(error)
            return
        _log.warning("actor_restarting", actor=child.name, supervisor=self.name, attempt=attempt)
        await self._restart_group(group, attempt, epoch)

    def _wants_restart(self, child: Child, failed: bool) -> bool:
        if child.restart is Restart.PERMANENT:
            return True
        return child.restart is Restart.TRANSIENT and failed

    def _group_for(self, child: Child) -> list[Child]:
        strategy = self.spec.strategy
        if strategy is Strategy.ONE_FOR_ALL:
            return list(self.children)
        if strategy is Strategy.REST_FOR_ONE:
            return self.children[self.children.index(child) :]
        return [child]

    async def _restart_group(self, group: list[Child], attempt: int, epoch: int) -> None:
        delay = self.spec.backoff.delay(attempt, self.system.rng)
        interrupt = self._interrupt
        with anyio.move_on_after(delay):
            await interrupt.wait()
        failed = await self._start_in_order(group, epoch, count=True)
        if failed is not None:
            await self.child_exited(failed[0], failed[0].generation, failed[1])

    async def _start_in_order(
        self, children: list[Child], epoch: int, *, count: bool
    ) -> tuple[Child, Exception] | None:
        # Outside the lock, since on_start may spawn; a halt, give-up or shutdown bumps the
        # epoch meanwhile and the remaining starts are abandoned.
        for child in children:
            if epoch != self._epoch or self._stopping:
                return None
            if child not in self.children or child.is_running:
                continue
            if count:
                child.count_restart()
            try:
                await child.start()
            except Exception as exc:
                return child, exc
        return None

    async def _give_up(self, error: Exception | None) -> None:
        failure = SupervisionFailed(self.name, self.spec.max_restarts, self.spec.within)
        failure.__cause__ = error
        self.give_ups += 1
        _log.error("supervisor_gave_up", supervisor=self.name, error=repr(error))
        async with self._lock:
            self.abandon_restarts()
            for child in reversed(self.children):
                await child.halt()
            self._running = False
            if self.parent is None:
                for child in self.children:
                    child.close("crashed", failure, ActorState.FAILED)
        if self.parent is not None:
            await self.parent.child_exited(self, self.generation, failure)
        else:
            self.system._fail(failure)

    def abandon_restarts(self) -> None:
        """Cut short every restart waiting in its backoff and drop it (a give-up, a halt, a
        shutdown)."""
        self._epoch += 1
        self._interrupt.set()
        self._interrupt = anyio.Event()

    async def terminate_child(self, child: Child) -> None:
        """Stop one child for good (ActorRef.stop): it is never restarted."""
        async with self._lock:
            await child.halt(for_good=True)
            child.close("stopped", None, ActorState.STOPPED)
            if child in self.children:
                self.children.remove(child)
            self._forget(child)

    def _forget(self, child: Child) -> None:
        """Drop a child that stopped for good from the registry, if this supervisor forgets;
        a nested supervisor always goes (with the supervisors under it), so that its name
        can be used again."""
        from ._cell import Cell

        if self.spec.forget_stopped and isinstance(child, Cell):
            self.system._unregister(child)
        if isinstance(child, Supervisor):
            child.unregister()

    def unregister(self) -> None:
        """Leave the system's registry with every supervisor under it (stopped for good)."""
        self.system._unregister_supervisor(self)
        for child in self.children:
            if isinstance(child, Supervisor):
                child.unregister()

    # --- the Child protocol, for nesting ------------------------------------------------

    @property
    def is_running(self) -> bool:
        """True unless halted, given up or stopped."""
        return self._running

    async def start(self) -> None:
        """Restart as a unit: a fresh restart window, every child started again in order."""
        async with self._lock:
            self.generation += 1
            self._restarts.clear()
            self._running = True
            epoch = self._epoch
            children = list(self.children)
        failed = await self._start_in_order(children, epoch, count=True)
        if failed is not None:
            raise failed[1]

    async def halt(self, *, for_good: bool = False) -> None:
        """Stop every child in reverse order, keeping their mailboxes (unless ``for_good``)."""
        self.generation += 1
        async with self._lock:
            self.abandon_restarts()
            self._running = False
            for child in reversed(self.children):
                await child.halt(for_good=for_good)

    def close(self, reason: str, error: BaseException | None, state: ActorState) -> None:
        """Close every child for good and end the task group."""
        self._running = False
        self.abandon_restarts()
        for child in self.children:
            child.close(reason, error, state)
        self._closed.set()

    def count_restart(self) -> None:
        """Restarts are counted per actor, by the children's own start."""

    # --- shutdown -------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Shutdown phase 3: stop children in reverse start order and settle what is left."""
        from ._cell import Cell

        self._stopping = True
        self.abandon_restarts()
        async with self._lock:
            for child in reversed(self.children):
                if isinstance(child, Supervisor):
                    await child.shutdown()
                else:
                    await child.halt()
                    if isinstance(child, Cell):
                        child.close("shutdown", None, ActorState.STOPPED)
            self._running = False
            self._closed.set()


class SupervisorRef:
    """Handle of a nested supervisor: spawn children under it."""

    __slots__ = ("_sup", "name")

    def __init__(self, sup: Supervisor) -> None:
        self.name = sup.name
        self._sup = sup

    async def spawn(self, spec: ChildSpec) -> ActorRef[Any]:
        """Start an actor under this supervisor; returns after its on_start."""
        return await self._sup.spawn(spec)

    async def spawn_supervisor(
        self, name: str, spec: SupervisorSpec, *, restart: Restart = Restart.PERMANENT
    ) -> SupervisorRef:
        """Start a supervisor nested under this one."""
        return await self._sup.spawn_supervisor(name, spec, restart=restart)

    @property
    def children(self) -> list[str]:
        """Names of the current children in start order."""
        return [child.name for child in self._sup.children]

    async def stop(self) -> None:
        """Stop this supervisor and everything under it for good (never restarted); its
        name and its children's names can be used again afterwards. Does nothing once
        the system shuts down (shutdown stops it anyway) or for the root."""
        parent = self._sup.parent
        if parent is None or self._sup.system.shutting_down:
            return
        await parent.terminate_child(self._sup)

    @property
    def is_running(self) -> bool:
        """False from the moment it gave up (or was halted) until its parent restarts it,
        and for good once it stopped."""
        return self._sup.is_running

    @property
    def give_ups(self) -> int:
        """Times it exceeded its restart intensity and gave up."""
        return self._sup.give_ups

    def actor_states(self) -> dict[str, str]:
        """Every actor under it (nested supervisors' too) -> its state."""
        from ._cell import Cell

        states: dict[str, str] = {}
        for child in self._sup.children:
            if isinstance(child, Cell):
                states[child.name] = child.state.value
            elif isinstance(child, Supervisor):
                states.update(SupervisorRef(child).actor_states())
        return states

    def __repr__(self) -> str:
        return f"<SupervisorRef {self.name}>"
