"""Poison messages and dead letters: bounded retries, counting, the last N, rate-limited logs."""

from __future__ import annotations

import contextlib
from typing import Any

import structlog

from scanlet.runtime import (
    Actor,
    ActorStopped,
    Backoff,
    ChildSpec,
    DeadLetter,
    DeadLetters,
    SupervisorSpec,
)
from scanlet.runtime.testing import running_system

FAST = SupervisorSpec(max_restarts=100, within=60, backoff=Backoff(0.001, 0.002, jitter=0))


class Picky(Actor[Any]):
    """Fails on "poison" every time, on "flaky" only on its first attempt overall."""

    attempts: list[str]

    def __init__(self, attempts: list[str], handled: list[Any]) -> None:
        self.attempts = attempts
        self.handled = handled

    async def on_message(self, message: Any) -> None:
        self.attempts.append(message)
        if message == "poison":
            raise ValueError("cannot digest")
        if message == "flaky" and self.attempts.count("flaky") == 1:
            raise ConnectionError("try again")
        self.handled.append(message)


async def test_a_failing_tell_is_retried_then_dead_lettered_with_its_error() -> None:
    attempts: list[str] = []
    handled: list[Any] = []
    async with running_system(supervisor=FAST) as system:
        ref = await system.spawn(
            ChildSpec("picky", lambda: Picky(attempts, handled), max_attempts=3)
        )
        await ref.tell("poison")
        await ref.tell("after")
        await system.wait_idle()
        assert attempts == ["poison", "poison", "poison", "after"]
        assert handled == ["after"]
        [letter] = system.dead_letters.recent()
        assert (letter.actor, letter.message, letter.reason) == ("picky", "poison", "failed")
        assert isinstance(letter.error, ValueError)
        stats = ref.statistics()
        assert (stats.failures, stats.restarts, stats.dead_letters) == (3, 3, 1)


async def test_a_message_that_succeeds_on_retry_is_handled_by_the_new_instance() -> None:
    attempts: list[str] = []
    handled: list[Any] = []
    async with running_system(supervisor=FAST) as system:
        ref = await system.spawn(
            ChildSpec("picky", lambda: Picky(attempts, handled), max_attempts=2)
        )
        await ref.tell("flaky")
        await ref.tell("next")
        await system.wait_idle()
        assert handled == ["flaky", "next"]
        assert system.dead_letters.count == 0


async def test_by_default_a_failing_tell_is_not_retried() -> None:
    attempts: list[str] = []
    async with running_system(supervisor=FAST) as system:
        ref = await system.spawn(ChildSpec("picky", lambda: Picky(attempts, [])))
        await ref.tell("poison")
        await system.wait_idle()
        assert attempts == ["poison"]
        assert system.dead_letters.count == 1


async def test_only_the_last_dead_letters_are_kept_but_all_are_counted() -> None:
    async with running_system(dead_letter_keep=3) as system:
        ref = await system.spawn(ChildSpec("gone", lambda: Picky([], [])))
        await ref.stop()
        for i in range(10):
            with contextlib.suppress(ActorStopped):
                ref.tell_nowait(i)
        assert system.dead_letters.count == 10
        assert [d.message for d in system.dead_letters.recent()] == [7, 8, 9]
        assert all(isinstance(d, DeadLetter) for d in system.dead_letters.recent())


def test_dead_letters_are_logged_at_a_bounded_rate() -> None:
    now = [0.0]
    letters = DeadLetters(keep=5, log_interval=1.0, clock=lambda: now[0])
    with structlog.testing.capture_logs() as logs:
        for i in range(50):
            letters.add("a", i, "stopped", None)
        now[0] = 1.5
        letters.add("a", "later", "stopped", None)
    lines = [e for e in logs if e["event"] == "dead_letter"]
    assert len(lines) == 2
    assert lines[0]["suppressed"] == 0
    assert lines[1]["suppressed"] == 49
    assert lines[1]["total"] == 51
    assert letters.count == 51
    assert len(letters.recent()) == 5
