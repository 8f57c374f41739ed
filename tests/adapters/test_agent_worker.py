"""The agent worker process: the parsers' own verdicts, off the loop, and never a reason for
the projection to stop (a worker that dies, hangs or talks nonsense leaves the agents to the
loop)."""

import contextlib
import os
import sys
import textwrap
import uuid
from pathlib import Path

import anyio
import pytest
from prometheus_client import CollectorRegistry

from scanlet.adapters import user_agents
from scanlet.adapters.agent_worker import MIN_AGENTS, AgentWorker
from scanlet.adapters.user_agents import AGENT_CHARS, undescribed
from scanlet.priority import BACKGROUND_NICENESS
from tests.conftest import AWAKE_AGENT_WORKER
from tests.processes import alive, assert_child_ends_with_its_parent, niceness

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{n} like Mac OS X) AppleWebKit/605.1.15 Mobile"


def fresh_agents(count: int) -> list[tuple[str | None, bool]]:
    """Agents no test has described before, of several kinds, each expected and not."""
    tag = uuid.uuid4().hex
    kinds = [
        IPHONE,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36 {n}",
        "Googlebot/2.1 (+http://www.google.com/bot.html) {n}",
        "curl/8.{n}",
        "Mozilla/5.0 (Linux; Android 14; Pixel {n}) Mobile ünï☃",
        "{n}" + "x" * 5000,
        "   {n}   ",
    ]
    texts = [kinds[i % len(kinds)].format(n=f"{i}-{tag}") for i in range(count)]
    return [(text, expect) for text in texts for expect in (True, False)]


def sample(registry: CollectorRegistry, name: str) -> float:
    return registry.get_sample_value(name) or 0.0


def metric(registry: CollectorRegistry) -> tuple[float, float]:
    return (
        sample(registry, "scanlet_agent_worker_described_total"),
        sample(registry, "scanlet_agent_worker_failures_total"),
    )


def python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code), *args]


async def test_the_worker_gives_the_parsers_verdicts_and_the_loop_finds_them_cached() -> None:
    agents = [*fresh_agents(24), (None, True), ("", False)]
    missing = undescribed(agents)
    registry = CollectorRegistry()
    worker = AgentWorker(registry=registry, command=AWAKE_AGENT_WORKER)
    try:
        assert await worker.prefetch(agents) == len(missing)
    finally:
        await worker.aclose()
    assert undescribed(agents) == []
    assert metric(registry) == (len(missing), 0)
    for text, expect in agents:
        # What the loop now finds is what its own parser says of the same cut text.
        parsed_here = user_agents._describe((text or "")[:AGENT_CHARS], expect)
        assert user_agents.describe_agent(text, expect_agent=expect) == parsed_here
    assert {user_agents.describe_agent(t, expect_agent=e).device for t, e in agents} >= {
        "mobile",
        "desktop",
        "bot",
        "other",
    }


@pytest.mark.skipif(sys.platform != "linux", reason="Linux's scheduling classes")
async def test_the_worker_as_the_server_starts_it_runs_below_the_server() -> None:
    # Its first answer may wait long on a busy machine (see AWAKE_AGENT_WORKER): what is
    # checked is the class it puts itself in, as soon as it has started.
    worker = AgentWorker(registry=CollectorRegistry(), answer_seconds=3600)
    expected = (min(19, os.nice(0) + BACKGROUND_NICENESS), os.SCHED_IDLE)
    seen: tuple[int, int] | None = None
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(worker.prefetch, fresh_agents(MIN_AGENTS))
        with anyio.move_on_after(60):
            while seen != expected:
                await anyio.sleep(0.01)
                if (pid := worker.pid) is not None:
                    with contextlib.suppress(OSError):
                        seen = (niceness(pid), os.sched_getscheduler(pid))
        tasks.cancel_scope.cancel()
    await worker.aclose()
    # Parsing waits for redirects, and never takes the core from the server on waking.
    assert seen == expected


async def test_a_few_new_agents_are_left_to_the_loop() -> None:
    registry = CollectorRegistry()
    # A worker that could not start: were it asked, the failure would be counted.
    worker = AgentWorker(registry=registry, command=["/nonexistent/agent-worker"])
    few = fresh_agents(MIN_AGENTS // 2 - 1)
    assert len(undescribed(few)) < MIN_AGENTS
    assert await worker.prefetch(few) == 0
    assert metric(registry) == (0, 0)
    assert len(undescribed(few)) == len(few)
    await worker.aclose()


async def test_a_worker_that_cannot_start_or_dies_leaves_the_agents_to_the_loop() -> None:
    for command in (["/nonexistent/agent-worker"], python("import sys; sys.exit(3)")):
        registry = CollectorRegistry()
        worker = AgentWorker(registry=registry, command=command)
        agents = fresh_agents(MIN_AGENTS)
        assert await worker.prefetch(agents) == 0
        assert metric(registry) == (0, 1)
        # Not started again at once: the next batch is described on the loop.
        assert await worker.prefetch(agents) == 0
        assert metric(registry) == (0, 1)
        assert len(undescribed(agents)) == len(agents)
        assert user_agents.describe_agent(agents[0][0]).device == "mobile"
        await worker.aclose()


async def test_a_worker_that_hangs_is_killed_and_one_that_talks_nonsense_is_stopped(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "pid"
    hanging = python(
        """
        import os, sys, time
        open(sys.argv[1], "w").write(str(os.getpid()))
        time.sleep(60)
        """,
        str(pid_file),
    )
    # Answers every frame with one verdict, whatever it was asked.
    wrong_count = python(
        """
        import sys
        body = b"\\x91\\x94\\xa6mobile\\xa3iOS\\xa6Safari\\xc2"
        while (header := sys.stdin.buffer.read(4)):
            sys.stdin.buffer.read(int.from_bytes(header, "big"))
            sys.stdout.buffer.write(len(body).to_bytes(4, "big") + body)
            sys.stdout.buffer.flush()
        """
    )
    for command in (hanging, wrong_count):
        registry = CollectorRegistry()
        worker = AgentWorker(registry=registry, command=command, answer_seconds=1.0)
        agents = fresh_agents(MIN_AGENTS)
        with anyio.fail_after(10):
            assert await worker.prefetch(agents) == 0
        assert metric(registry) == (0, 1)
        assert len(undescribed(agents)) == len(agents)
        await worker.aclose()
    hung = int(pid_file.read_text())
    assert not alive(hung)


async def test_after_close_every_agent_is_left_to_the_loop() -> None:
    registry = CollectorRegistry()
    worker = AgentWorker(registry=registry, command=AWAKE_AGENT_WORKER)
    assert await worker.prefetch(fresh_agents(MIN_AGENTS)) > 0
    await worker.aclose()
    agents = fresh_agents(MIN_AGENTS)
    assert await worker.prefetch(agents) == 0
    assert len(undescribed(agents)) == len(agents)


def test_the_worker_ends_when_its_server_is_killed() -> None:
    assert_child_ends_with_its_parent(
        python(
            """
            import anyio, sys, uuid
            from scanlet.adapters.agent_worker import AgentWorker

            async def main():
                worker = AgentWorker(command=sys.argv[1:])
                tag = uuid.uuid4().hex
                await worker.prefetch([(f"agent {i} {tag}", True) for i in range(32)])
                print("worker", worker.pid, flush=True)
                await anyio.sleep(120)

            anyio.run(main)
            """,
            *AWAKE_AGENT_WORKER,
        )
    )


async def test_agents_that_cannot_be_sent_are_left_to_the_loop() -> None:
    registry = CollectorRegistry()
    worker = AgentWorker(registry=registry)
    agents = [(f"{text}\ud800", expect) for text, expect in fresh_agents(MIN_AGENTS)]
    try:
        assert await worker.prefetch(agents) == 0
    finally:
        await worker.aclose()
    assert metric(registry) == (0, 1)
    # ... and the loop's parser reads the surrogate as a replacement character.
    assert user_agents.describe_agent(agents[0][0]).device == "mobile"
