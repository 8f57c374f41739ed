"""Throughput of the actor runtime against the raw primitives it is built from.

Run: `python bench/runtime.py [--rounds N]`. Prints tell throughput and ask round trips per
second, each as a ratio to the fastest raw primitive measured in the same run (asyncio.Queue
between two tasks for tell; queue + future for ask), with anyio memory object streams beside
them for reference. Uses uvloop when importable. Goal: >= 0.5 of the raw primitive on both.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import logging
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import structlog
from prometheus_client import CollectorRegistry

from scanlet.runtime import Actor, ActorSystem, ChildSpec

CAPACITY = 1024
Bench = Callable[[int], Awaitable[float]]


# --- tell: one producer, one consumer ----------------------------------------------------


async def tell_asyncio_queue(n: int) -> float:
    """asyncio.Queue between two tasks."""
    queue: asyncio.Queue[int] = asyncio.Queue(CAPACITY)

    async def consume() -> None:
        for _ in range(n):
            await queue.get()

    start = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        tg.create_task(consume())
        for i in range(n):
            await queue.put(i)
    return time.perf_counter() - start


async def tell_anyio_stream(n: int) -> float:
    """anyio memory object stream between two tasks."""
    send, receive = anyio.create_memory_object_stream[int](CAPACITY)

    async def consume() -> None:
        async with receive:
            for _ in range(n):
                await receive.receive()

    start = time.perf_counter()
    async with anyio.create_task_group() as tg, send:
        tg.start_soon(consume)
        for i in range(n):
            await send.send(i)
    return time.perf_counter() - start


class Counter(Actor[int]):
    """Counts messages and resolves a future at the target."""

    def __init__(self, target: int, done: asyncio.Future[None]) -> None:
        self.target = target
        self.done = done
        self.count = 0

    async def on_message(self, message: int) -> None:
        self.count += 1
        if self.count == self.target:
            self.done.set_result(None)


async def tell_runtime(n: int) -> float:
    """ActorRef.tell into a bounded mailbox (backpressure when full)."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    async with ActorSystem(registry=CollectorRegistry()) as system:
        ref = await system.spawn(
            ChildSpec("counter", lambda: Counter(n, done), mailbox_capacity=CAPACITY)
        )
        start = time.perf_counter()
        for i in range(n):
            await ref.tell(i)
        await done
        return time.perf_counter() - start


# --- ask: one asker, sequential round trips ----------------------------------------------


async def ask_asyncio_queue(n: int) -> float:
    """asyncio.Queue carrying (message, future); the server resolves the future."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[int, asyncio.Future[int]] | None] = asyncio.Queue(CAPACITY)

    async def serve() -> None:
        while (item := await queue.get()) is not None:
            item[1].set_result(item[0])

    start = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        tg.create_task(serve())
        for i in range(n):
            future: asyncio.Future[int] = loop.create_future()
            queue.put_nowait((i, future))
            await future
        queue.put_nowait(None)
    return time.perf_counter() - start


async def ask_anyio_stream(n: int) -> float:
    """anyio memory object stream carrying (message, future)."""
    loop = asyncio.get_running_loop()
    send, receive = anyio.create_memory_object_stream[tuple[int, asyncio.Future[int]]](CAPACITY)

    async def serve() -> None:
        async with receive:
            async for message, future in receive:
                future.set_result(message)

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(serve)
        async with send:
            for i in range(n):
                future: asyncio.Future[int] = loop.create_future()
                send.send_nowait((i, future))
                await future
    return time.perf_counter() - start


class Echo(Actor[int]):
    """Replies with the message."""

    async def on_message(self, message: int) -> int:
        return message


async def ask_runtime(n: int) -> float:
    """ActorRef.ask with the default deadline."""
    async with ActorSystem(registry=CollectorRegistry()) as system:
        ref = await system.spawn(ChildSpec("echo", Echo, mailbox_capacity=CAPACITY))
        start = time.perf_counter()
        for i in range(n):
            await ref.ask(i)
        return time.perf_counter() - start


# --- driver ------------------------------------------------------------------------------


async def best_rates(benches: dict[str, Bench], n: int, rounds: int) -> dict[str, float]:
    """Operations per second of each bench, best of `rounds` interleaved runs."""
    best = dict.fromkeys(benches, float("inf"))
    for _ in range(rounds):
        for label, bench in benches.items():
            best[label] = min(best[label], await bench(n))
    return {label: n / seconds for label, seconds in best.items()}


def report(title: str, rates: dict[str, float], raw: list[str], ours: str) -> float:
    """Print one table; returns our ratio to the fastest raw primitive."""
    fastest = max(rates[label] for label in raw)
    print(title)
    for label, rate in rates.items():
        mark = "  <- goal >= 0.50" if label == ours else ""
        print(f"  {label:<34} {rate:>12,.0f}/s  {rate / fastest:5.2f}{mark}")
    return rates[ours] / fastest


async def main(rounds: int, n_tell: int, n_ask: int) -> dict[str, float]:
    """Run both benchmarks and print the figures."""
    tell = await best_rates(
        {
            "asyncio.Queue put/get": tell_asyncio_queue,
            "anyio memory stream send/receive": tell_anyio_stream,
            "scanlet ActorRef.tell": tell_runtime,
        },
        n_tell,
        rounds,
    )
    ask = await best_rates(
        {
            "asyncio.Queue + future": ask_asyncio_queue,
            "anyio memory stream + future": ask_anyio_stream,
            "scanlet ActorRef.ask": ask_runtime,
        },
        n_ask,
        rounds,
    )
    tell_ratio = report(
        f"tell throughput (messages/s, n={n_tell}, best of {rounds})",
        tell,
        ["asyncio.Queue put/get", "anyio memory stream send/receive"],
        "scanlet ActorRef.tell",
    )
    ask_ratio = report(
        f"ask round trips (per second, n={n_ask}, sequential, best of {rounds})",
        ask,
        ["asyncio.Queue + future", "anyio memory stream + future"],
        "scanlet ActorRef.ask",
    )
    print(f"ratios to fastest raw primitive: tell {tell_ratio:.2f}, ask {ask_ratio:.2f}")
    return {"tell": tell_ratio, "ask": ask_ratio}


def run() -> None:
    """Parse arguments, pick the event loop and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tell", type=int, default=200_000, help="messages per tell run")
    parser.add_argument("--ask", type=int, default=50_000, help="round trips per ask run")
    args = parser.parse_args()
    # The systems log their start and stop at info level: keep the figures readable.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    runner: Any
    try:
        import uvloop

        loop_name, runner = f"uvloop {importlib.metadata.version('uvloop')}", uvloop.run
    except ImportError:
        loop_name, runner = "asyncio", asyncio.run
    print(f"scanlet runtime bench: {platform.python_implementation()} {sys.version.split()[0]}")
    print(f"event loop: {loop_name}")
    runner(main(args.rounds, args.tell, args.ask))


if __name__ == "__main__":
    run()
