"""`ActorSystem`: the root supervisor, registry, bus, dead letters, metrics and shutdown."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import structlog
from anyio.abc import TaskGroup
from opentelemetry.trace import Tracer, TracerProvider
from prometheus_client import CollectorRegistry

from ._bus import EventBus
from ._deadletters import DeadLetters
from ._deadlines import Deadlines
from ._errors import ActorNameTaken, ActorNotFound
from ._metrics import RuntimeCollector
from ._supervisor import ChildSpec, Restart, Supervisor, SupervisorRef, SupervisorSpec
from ._trace import otel_tracer
from ._types import Clock, RandomFn

if TYPE_CHECKING:
    from ._cell import Cell
    from ._mailbox import Mailbox
    from ._ref import ActorRef

__all__ = ("ActorSystem",)

_log = structlog.get_logger(__package__)
# Frozen, so one shared default instance is safe.
_DEFAULT_SUPERVISOR = SupervisorSpec()


class ActorSystem:
    """Runs actors under a root supervisor; use as `async with ActorSystem(...) as system`.

    `registry` None means metrics are not exported anywhere (pass the app's registry, or a
    fresh one in tests); `metric_prefix` names them (``"shop"`` gives
    ``shop_actor_mailbox_depth``; empty gives ``actor_mailbox_depth``). `tracer_provider`
    None means OpenTelemetry's global provider; spans are made only when it is a real SDK
    provider. `rng` and `clock` are injectable for tests
    (backoff jitter, restart-intensity window). Requires the asyncio backend (uvloop is fine):
    the hot path uses asyncio futures directly.
    """

    def __init__(
        self,
        *,
        name: str = "system",
        supervisor: SupervisorSpec = _DEFAULT_SUPERVISOR,
        ask_timeout: float = 5.0,
        registry: CollectorRegistry | None = None,
        metric_prefix: str = "",
        dead_letter_keep: int = 100,
        tracer_provider: TracerProvider | None = None,
        rng: RandomFn | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.name = name
        self.ask_timeout = ask_timeout
        self.bus = EventBus()
        self.dead_letters = DeadLetters(dead_letter_keep)
        self.deadlines = Deadlines()
        self.failure: BaseException | None = None
        self.rng: RandomFn = rng if rng is not None else random.random
        self.clock = clock
        self.tracer: Tracer | None = None
        self._supervisor_spec = supervisor
        self._registry = registry
        self._tracer_provider = tracer_provider
        self._collector = RuntimeCollector(self, metric_prefix)
        self._cells: dict[str, Cell] = {}
        self._supervisors: dict[str, Supervisor] = {}
        self._root: Supervisor | None = None
        self._tg: TaskGroup | None = None
        self._failed: anyio.Event | None = None
        self._shutdown: anyio.Event | None = None

    # --- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> ActorSystem:
        """Start the root supervisor and register the metrics collector."""
        if self._tg is not None:
            raise RuntimeError("an ActorSystem can be entered only once")
        self._failed = anyio.Event()
        # Checked once: with no real provider the hot path never touches OpenTelemetry.
        self.tracer = otel_tracer(self._tracer_provider)
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        try:
            self._root = Supervisor(self.name, self._supervisor_spec, self, None)
            await tg.start(self._root.host)
        except BaseException as exc:
            tg.cancel_scope.cancel()
            await tg.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        if self._registry is not None:
            self._registry.register(self._collector)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        """Shut down (shielded, so a cancelled body still drains and stops actors)."""
        assert self._tg is not None
        try:
            with anyio.CancelScope(shield=True):
                await self.shutdown()
        finally:
            self.deadlines.close()
            self._tg.cancel_scope.cancel()
            result = await self._tg.__aexit__(exc_type, exc, tb)
        return result

    @property
    def shutting_down(self) -> bool:
        """True from the moment shutdown starts."""
        return self._shutdown is not None

    async def shutdown(self, deadline: float = 10.0) -> None:
        """Phased stop; idempotent (a second call waits for the first).

        1. Close intake: sends from outside actors raise ActorStopped (counted dead letters);
           supervisors that gave up are not started again.
        2. Drain: let actors handle what is queued (and talk to each other) up to `deadline`.
        3. Stop actors in reverse start order (on_stop); leftover asks fail with ActorStopped,
           leftover tells become dead letters. Then close every bus subscription.
        """
        if self._shutdown is not None:
            await self._shutdown.wait()
            return
        self._shutdown = anyio.Event()
        try:
            _log.info("actor_system_stopping", system=self.name)
            for cell in list(self._cells.values()):
                cell.mailbox.begin_drain()
            # A supervisor that gave up waits (maybe minutes) for its parent to start it
            # again; that start is abandoned now instead of holding the drain until its end.
            for sup in list(self._supervisors.values()):
                if not sup.is_running and sup.parent is not None:
                    sup.parent.abandon_restarts()
            with anyio.move_on_after(deadline) as drain:
                await self.wait_idle()
            if drain.cancelled_caught:
                _log.warning("actor_system_drain_timeout", system=self.name, deadline=deadline)
            if self._root is not None:
                await self._root.shutdown()
            self.bus.close()
            if self._registry is not None:
                self._registry.unregister(self._collector)
            _log.info(
                "actor_system_stopped", system=self.name, dead_letters=self.dead_letters.count
            )
        finally:
            self._shutdown.set()

    # --- actors ---------------------------------------------------------------------------

    def _root_supervisor(self) -> Supervisor:
        if self._root is None:
            raise RuntimeError("the ActorSystem is not running: use `async with`")
        return self._root

    async def spawn(self, spec: ChildSpec) -> ActorRef[Any]:
        """Start an actor under the root supervisor; returns after its on_start."""
        return await self._root_supervisor().spawn(spec)

    async def spawn_supervisor(
        self, name: str, spec: SupervisorSpec, *, restart: Restart = Restart.PERMANENT
    ) -> SupervisorRef:
        """Start a nested supervisor under the root, to group related actors."""
        return await self._root_supervisor().spawn_supervisor(name, spec, restart=restart)

    def lookup(self, name: str) -> ActorRef[Any]:
        """The ref of the actor registered under `name` (ActorNotFound if none)."""
        cell = self._cells.get(name)
        if cell is None:
            raise ActorNotFound(name)
        return cell.ref

    def supervisors(self) -> dict[str, SupervisorRef]:
        """Every nested supervisor by name (the root is the system itself)."""
        return {name: SupervisorRef(sup) for name, sup in self._supervisors.items()}

    def health(self) -> dict[str, str]:
        """Actor name -> "running", "starting", "stopped" or "failed"."""
        return {name: cell.state.value for name, cell in self._cells.items()}

    async def wait_idle(self) -> None:
        """Return when every mailbox is empty and no handler runs (re-checked until stable)."""
        while True:
            busy = [cell for cell in self._cells.values() if not cell.is_idle()]
            if not busy:
                return
            for cell in busy:
                await cell.wait_idle()

    # --- failure --------------------------------------------------------------------------

    async def wait_failed(self) -> BaseException:
        """Wait until the top supervisor gives up; returns the failure."""
        assert self._failed is not None, "the ActorSystem is not running"
        await self._failed.wait()
        assert self.failure is not None
        return self.failure

    def _fail(self, failure: BaseException) -> None:
        self.failure = failure
        _log.critical("actor_system_failed", system=self.name, error=repr(failure))
        if self._failed is not None:
            self._failed.set()

    # --- registry (used by supervisors) --------------------------------------------------

    def _register(self, cell: Cell) -> None:
        old = self._cells.get(cell.name)
        if (old is not None and old.ref.is_alive) or cell.name in self._supervisors:
            raise ActorNameTaken(cell.name)
        self._cells[cell.name] = cell

    def _unregister(self, cell: Cell) -> None:
        if self._cells.get(cell.name) is cell:
            del self._cells[cell.name]

    def _unregister_supervisor(self, sup: Supervisor) -> None:
        if self._supervisors.get(sup.name) is sup:
            del self._supervisors[sup.name]

    def _register_supervisor(self, sup: Supervisor) -> None:
        if sup.name in self._supervisors or sup.name in self._cells or sup.name == self.name:
            raise ActorNameTaken(sup.name)
        self._supervisors[sup.name] = sup

    # --- metrics source -------------------------------------------------------------------

    def mailboxes(self) -> Iterable[Mailbox]:
        """Every registered actor's mailbox (for the metrics collector)."""
        return [cell.mailbox for cell in self._cells.values()]

    def bus_dropped(self) -> Mapping[str, int]:
        """Events dropped per bus subscriber (for the metrics collector)."""
        return self.bus.dropped_by_subscriber()
