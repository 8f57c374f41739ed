"""Delivery workers: one actor per endpoint, sending its outbox in order, one attempt a message.

Each endpoint has its own worker under the ``webhook-delivery`` supervisor, so a slow or
failing endpoint only ever holds up its own deliveries. A worker tries the oldest pending
delivery of its endpoint (strict order: later events wait behind a retried one), records the
attempt and its consequence in one transaction, and wakes itself for the next one; when the
next one is not due yet it asks the timer to wake it later and returns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from scanlet.actors.events import SYSTEM_BY, LogAppended, WebhookDisabled, log_entry
from scanlet.actors.webhooks.metrics import WebhookMetrics
from scanlet.actors.webhooks.policy import (
    DISABLE_AFTER,
    RETRY_CAP,
    RETRY_WINDOW,
    Verdict,
    judge,
    retry_delay,
)
from scanlet.actors.webhooks.sender import Outgoing, SendResult, WebhookSender
from scanlet.actors.webhooks.signing import signed_headers
from scanlet.actors.webhooks.wakeup import WAKE, Wake, WakeTimer
from scanlet.clock import Clock
from scanlet.ids import new_event_id
from scanlet.runtime import Actor, MailboxFull
from scanlet.storage.ports import WebhookRepository
from scanlet.storage.records import (
    AttemptOutcome,
    DeliveryRow,
    EndpointDisable,
    EndpointRow,
    NewAttempt,
)
from scanlet.storage.timefmt import format_time

__all__ = ("DeliveryDeps", "DeliveryWorker")

log = structlog.get_logger("scanlet.webhooks")


@dataclass(frozen=True)
class DeliveryDeps:
    """What every delivery worker needs (handed in by the feature)."""

    store: WebhookRepository
    clock: Clock
    sender: WebhookSender
    timer: WakeTimer
    metrics: WebhookMetrics
    retry_base: float
    rand: Callable[[], float]
    retry_cap: float = RETRY_CAP


@dataclass(frozen=True)
class _Decision:
    outcome: str  # delivered | retrying | given_up | gone | disabled
    failures: int
    due: datetime | None = None
    disable_reason: str | None = None


class DeliveryWorker(Actor[Wake]):
    """Delivers one endpoint's outbox; stops itself when the endpoint is gone or disabled."""

    def __init__(self, endpoint_id: str, deps: DeliveryDeps) -> None:
        self.endpoint_id = endpoint_id
        self.deps = deps

    async def on_start(self) -> None:
        """Resume whatever is pending (after a restart or at boot)."""
        self._wake_self()

    def _wake_self(self) -> None:
        with contextlib.suppress(MailboxFull):  # a wake-up is already queued
            self.ref.tell_nowait(WAKE)

    async def on_message(self, message: Wake) -> None:
        """Make at most one attempt, then wake again or ask the timer to."""
        if self.system.shutting_down:
            return  # pending deliveries stay in the outbox for the next start
        deps = self.deps
        endpoint = await deps.store.endpoint(self.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            self.stop_self()
            return
        head = await deps.store.next_delivery(self.endpoint_id)
        if head is None:
            return
        wait = (head.next_attempt_at - deps.clock.now()).total_seconds()
        if wait > 0:
            deps.timer.wake_in(self.ref.name, wait)
            return
        if await self._attempt(endpoint, head):
            self._wake_self()
        else:
            self.stop_self()

    async def _attempt(self, endpoint: EndpointRow, head: DeliveryRow) -> bool:
        """One attempt; False when it disabled the endpoint."""
        deps = self.deps
        sent_at = deps.clock.now()
        headers = signed_headers(endpoint.secret, head.event_id, sent_at, head.body)
        result = await deps.sender.send(Outgoing(endpoint.url, headers, head.body))
        finished = deps.clock.now()
        decision = self._decide(endpoint, head, result, finished)
        attempt = NewAttempt(
            endpoint_id=endpoint.id,
            delivery_id=head.id,
            event_id=head.event_id,
            event_type=head.event_type,
            attempt=head.attempts + 1,
            attempted_at=sent_at,
            status_code=result.status_code,
            error=result.error,
            duration_ms=round(result.duration * 1000.0, 3),
            outcome=decision.outcome,
        )
        disable = None
        if decision.disable_reason is not None:
            disabled_event = WebhookDisabled(
                id=new_event_id(),
                occurred_at=finished,
                by=SYSTEM_BY,
                endpoint_id=endpoint.id,
                reason=decision.disable_reason,
            )
            disable = EndpointDisable(finished, decision.disable_reason, log_entry(disabled_event))
        recorded = await deps.store.record_attempt(
            attempt, decision.failures, AttemptOutcome(due=decision.due, disable=disable)
        )
        removed, last_seq = recorded.removed, recorded.last_seq
        self._count(decision, result, removed)
        if disable is not None:
            log.warning("webhook.disabled", endpoint=endpoint.id, reason=disable.reason)
            if last_seq is not None:
                self.system.bus.publish_nowait(LogAppended(last_seq))
            return False
        if decision.due is not None:
            log.info(
                "webhook attempt failed",
                endpoint=endpoint.id,
                event_id=head.event_id,
                attempt=head.attempts + 1,
                status=result.status_code,
                error=result.error,
                retry_at=format_time(decision.due),
            )
        return True

    def _decide(
        self, endpoint: EndpointRow, head: DeliveryRow, result: SendResult, now: datetime
    ) -> _Decision:
        verdict = judge(result.status_code)
        if verdict is Verdict.DELIVERED:
            return _Decision("delivered", 0)
        if verdict is Verdict.GONE:
            return _Decision(
                "gone", endpoint.failures + 1, disable_reason="the endpoint answered 410 Gone"
            )
        failures = endpoint.failures + 1
        if failures >= DISABLE_AFTER:
            return _Decision(
                "disabled",
                failures,
                disable_reason=f"{failures} consecutive failed delivery attempts",
            )
        if now - head.created_at >= RETRY_WINDOW:
            return _Decision("given_up", failures)
        deps = self.deps
        delay = retry_delay(head.attempts + 1, deps.retry_base, deps.rand, deps.retry_cap)
        return _Decision("retrying", failures, due=now + timedelta(seconds=delay))

    def _count(self, decision: _Decision, result: SendResult, removed: int) -> None:
        metrics = self.deps.metrics
        metrics.duration.observe(result.duration)
        metrics.outbox_depth.dec(removed)
        if decision.outcome == "delivered":
            metrics.delivered.inc()
            return
        metrics.failures.labels("status" if result.status_code is not None else "error").inc()
        if decision.outcome == "given_up":
            metrics.given_up.inc()
        elif decision.disable_reason is not None:
            metrics.disabled.labels("gone" if decision.outcome == "gone" else "failing").inc()
