"""Load clients for the fault scenarios: what they sent, and what came back acknowledged.

Redirects carry a unique User-Agent and device events a unique id, so "acknowledged" is a
set and the checks are set differences against what the database holds afterwards (Jepsen
style), not counts.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

__all__ = (
    "SLUG",
    "Pace",
    "Tally",
    "await_answers",
    "clients",
    "create_code",
    "resend_duplicates",
)

SLUG = "poster"
MAX_REQUESTS_PER_CLIENT = 200_000  # a bound on every client loop, besides its deadline
BATCH = 20  # device events per ingest request


def create_code(base: str, token: str) -> None:
    """The code every redirect scans."""
    answer = httpx.post(
        f"{base}/api/v1/codes",
        headers={"Authorization": f"Bearer {token}"},
        json={"target": "https://example.com/menu", "slug": SLUG},
        timeout=10,
    )
    if answer.status_code != 201:
        raise RuntimeError(f"cannot create the code: {answer.status_code} {answer.text}")


@dataclass
class Tally:
    """What the clients saw: acknowledged sets, statuses, and requests with no answer."""

    acked_scans: set[str] = field(default_factory=set)
    acked_events: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    unanswered_scans: set[str] = field(default_factory=set)
    unanswered_events: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def await_answers(tally: Tally, count: int, timeout: float) -> None:
    """Wait until the clients have had ``count`` answers: on a busy machine, threads and their
    HTTP clients may take longer to start than a scenario's wait, which would then measure no
    load at all."""
    deadline = time.monotonic() + timeout
    while True:
        with tally.lock:
            answered = sum(tally.statuses.values())
        if answered >= count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the clients had {answered} of {count} answers in {timeout} s")
        time.sleep(0.01)


def _events(count: int) -> list[dict[str, str]]:
    now = datetime.now(UTC).isoformat()
    return [
        {"type": "scan", "id": str(uuid.uuid4()), "slug": SLUG, "occurred_at": now}
        for _ in range(count)
    ]


@dataclass(frozen=True)
class Pace:
    """How hard one client drives: device events per batch, and a pause after each request
    (a test that waits for every scan to be delivered elsewhere keeps the volume bounded)."""

    batch: int = BATCH
    pause: float = 0.0


def _drive(
    base: str,
    token: str,
    tag: str,
    tally: Tally,
    stop: threading.Event,
    deadline: float,
    pace: Pace,
) -> None:
    """One client: redirects (unique User-Agent) and, every fourth request, an event batch.

    Ends at ``deadline``, when ``stop`` is set, or when the server no longer accepts
    connections. A request that got no answer is remembered as unanswered: the server may or
    may not have accepted it, and the checks tell which.
    """
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=15.0) as client:
        for n in range(MAX_REQUESTS_PER_CLIENT):
            if stop.is_set() or time.monotonic() > deadline:
                return
            agent = f"{tag}-{n}"
            if pace.pause:
                time.sleep(pace.pause)
            batch = _events(pace.batch) if n % 4 == 3 and pace.batch else []
            try:
                if batch:
                    answer = client.post("/api/v1/events", headers=headers, json={"events": batch})
                else:
                    answer = client.get(f"/{SLUG}", headers={"user-agent": agent})
            except httpx.ConnectError:
                with tally.lock:
                    tally.errors["connect refused"] += 1
                return  # the server is gone or no longer listening: nothing was accepted
            except httpx.TransportError as exc:
                with tally.lock:
                    tally.errors[type(exc).__name__] += 1
                    if batch:
                        tally.unanswered_events.update(e["id"] for e in batch)
                    else:
                        tally.unanswered_scans.add(agent)
                continue
            with tally.lock:
                tally.statuses[answer.status_code] += 1
                if batch and answer.status_code == 200:
                    for result in answer.json()["results"]:
                        if result["status"] == "accepted":
                            tally.acked_events.add(result["id"])
                elif not batch and answer.status_code == 302:
                    tally.acked_scans.add(agent)


@contextmanager
def clients(
    base: str,
    token: str,
    tag: str,
    tally: Tally,
    count: int,
    seconds: float,
    pace: Pace = Pace(),  # frozen: one shared default is safe
) -> Iterator[threading.Event]:
    """Run ``count`` clients in threads for at most ``seconds``; the block may stop them by
    setting the event it gets, and its end stops and joins them."""
    stop = threading.Event()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=_drive,
            args=(base, token, f"{tag}-c{i}", tally, stop, deadline, pace),
        )
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    try:
        yield stop
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=seconds + 30)


def resend_duplicates(base: str, token: str, ids: Sequence[str]) -> Counter[str]:
    """Send acknowledged event ids again; counts the statuses that come back (each one must
    be ``duplicate``)."""
    outcome: Counter[str] = Counter()
    now = datetime.now(UTC).isoformat()
    ordered = sorted(ids)
    with httpx.Client(base_url=base, timeout=30.0) as client:
        for start in range(0, len(ordered), 1000):
            events = [
                {"type": "scan", "id": i, "slug": SLUG, "occurred_at": now}
                for i in ordered[start : start + 1000]
            ]
            answer = client.post(
                "/api/v1/events",
                headers={"Authorization": f"Bearer {token}"},
                json={"events": events},
            )
            answer.raise_for_status()
            outcome.update(r["status"] for r in answer.json()["results"])
    return outcome
