"""Two ``scanlet serve`` processes on one PostgreSQL database behave as one service.

Waits here are bounded polls (the server gets there on its own), not timing assertions:
how fast a change or a hand-over travels is measured by ``bench/cluster.py``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from scanlet.config import load_settings
from scanlet.storage.postgres.storage import open_postgres
from tests.cluster.instances import Cluster, location, readiness, wait_for
from tests.dbquery import query
from tests.faults._clients import SLUG, Pace, Tally, clients, create_code
from tests.pg import run_async
from tests.processes import Served


def test_a_change_on_one_instance_is_served_by_the_other(cluster: Cluster) -> None:
    a, b, _ = cluster
    headers = {"Authorization": f"Bearer {a.key('write')}"}
    created = httpx.post(
        f"{a.base}/api/v1/codes",
        headers=headers,
        json={"target": "https://example.com/first", "slug": "menu"},
        timeout=5,
    )
    assert created.status_code == 201
    wait_for(lambda: location(b, "menu") == "https://example.com/first", "B serves the new code")
    changed = httpx.patch(
        f"{a.base}/api/v1/codes/menu",
        headers=headers,
        json={"target": "https://example.com/second"},
        timeout=5,
    )
    assert changed.status_code == 200
    wait_for(lambda: location(b, "menu") == "https://example.com/second", "B follows the change")
    # Changed on B now: A follows, and a slug taken on one is taken on the other.
    headers_b = {"Authorization": f"Bearer {b.key('write')}"}
    assert (
        httpx.patch(
            f"{b.base}/api/v1/codes/menu", headers=headers_b, json={"enabled": False}, timeout=5
        ).status_code
        == 200
    )
    wait_for(lambda: location(a, "menu").startswith("410"), "A serves the disabled code as gone")
    taken = httpx.post(
        f"{b.base}/api/v1/codes",
        headers=headers_b,
        json={"target": "https://example.com/", "slug": "menu"},
        timeout=5,
    )
    assert taken.status_code == 409
    deleted = httpx.delete(f"{a.base}/api/v1/codes/menu", headers=headers, timeout=5)
    assert deleted.status_code == 204
    wait_for(lambda: location(b, "menu") == "410 This code was deleted.", "B knows it was deleted")
    # Both agree on which of them runs the followers.
    leaders = {readiness(a)["leader"], readiness(b)["leader"]}
    assert len(leaders) == 1
    assert leaders <= {"a", "b"}


def _location_on(instance: Served, slug: str, host: str) -> str:
    """Where ``/slug`` on the domain ``host`` redirects to, or its status."""
    answer = httpx.get(f"{instance.base}/{slug}", headers={"host": host}, timeout=5)
    return str(answer.headers.get("location", answer.status_code))


def test_a_domain_and_its_codes_reach_the_other_instance(cluster: Cluster) -> None:
    a, b, _ = cluster
    admin_a = {"Authorization": f"Bearer {a.key('admin')}"}
    admin_b = {"Authorization": f"Bearer {b.key('admin')}"}
    registered = httpx.post(
        f"{a.base}/api/v1/domains",
        headers=admin_a,
        json={"host": "links.example", "not_found_url": "https://example.com/gone/{slug}"},
        timeout=5,
    )
    assert registered.status_code == 201, registered.text
    for body in (
        {"target": "https://example.com/here", "slug": "menu"},
        {"target": "https://example.com/there", "slug": "menu", "domain": "links.example"},
    ):
        made = httpx.post(f"{a.base}/api/v1/codes", headers=admin_a, json=body, timeout=5)
        assert made.status_code == 201, made.text
    wait_for(
        lambda: _location_on(b, "menu", "links.example") == "https://example.com/there",
        "B serves the code on the new domain",
    )
    assert location(b, "menu") == "https://example.com/here"
    assert _location_on(b, "nosuch", "links.example") == "https://example.com/gone/nosuch"
    # Changed on B (the code, then the domain): A follows both.
    changed = httpx.patch(
        f"{b.base}/api/v1/codes/menu?domain=links.example",
        headers=admin_b,
        json={"target": "https://example.com/moved"},
        timeout=5,
    )
    assert changed.status_code == 200, changed.text
    moved = httpx.patch(
        f"{b.base}/api/v1/domains/links.example",
        headers=admin_b,
        json={"not_found_url": "https://example.com/lost/{slug}"},
        timeout=5,
    )
    assert moved.status_code == 200, moved.text
    wait_for(
        lambda: _location_on(a, "nosuch", "links.example") == "https://example.com/lost/nosuch",
        "A follows the domain's change",
    )
    assert _location_on(a, "menu", "links.example") == "https://example.com/moved"
    # Removed on A: B serves that host as the default domain again.
    gone = httpx.delete(
        f"{a.base}/api/v1/codes/menu?domain=links.example", headers=admin_a, timeout=5
    )
    assert gone.status_code == 204
    removed = httpx.delete(f"{a.base}/api/v1/domains/links.example", headers=admin_a, timeout=5)
    assert removed.status_code == 204, removed.text
    wait_for(
        lambda: _location_on(b, "menu", "links.example") == "https://example.com/here",
        "B serves the removed domain's host as the default domain",
    )


def test_a_stream_on_one_instance_carries_scans_made_on_the_other(cluster: Cluster) -> None:
    a, b, _ = cluster
    token = a.key("write")
    create_code(a.base, token)
    wait_for(lambda: location(b, SLUG).startswith("https:"), "B knows the code")
    seen: list[dict[str, Any]] = []
    opened = threading.Event()
    done = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(timeout=30) as client,
            client.stream(
                "GET", f"{b.base}/api/v1/stream", headers={"Authorization": f"Bearer {token}"}
            ) as stream,
        ):
            opened.set()
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    agent = event["data"].get("user_agent") or ""
                    if event.get("type") == "scan.recorded" and agent.startswith("from-a-"):
                        seen.append(event)
                if len(seen) >= 3 or done.is_set():
                    return

    reader = threading.Thread(target=listen, daemon=True)
    reader.start()
    assert opened.wait(10)
    time.sleep(0.2)  # the stream starts at the log's end: scans from now on
    for n in range(3):
        made = httpx.get(f"{a.base}/{SLUG}", headers={"user-agent": f"from-a-{n}"}, timeout=5)
        assert made.status_code == 302
    reader.join(timeout=15)
    done.set()
    assert [event["data"]["user_agent"] for event in seen] == ["from-a-0", "from-a-1", "from-a-2"]


def stored_agents_and_ids(url: str) -> tuple[set[str], set[str]]:
    settings = load_settings({"SCANLET_DB": url}, isatty=False)
    agents = {
        row[0]
        for row in query(
            settings,
            "SELECT convert_from(payload, 'UTF8')::json->>'user_agent' FROM events"
            " WHERE type = 'scan.recorded'",
        )
        if row[0]
    }
    ids = {row[0] for row in query(settings, "SELECT id FROM device_event_ids")}
    return agents, ids


class Receiver:
    """A webhook receiver on the loopback: the ``webhook-id`` of every delivery, in order."""

    def __init__(self) -> None:
        received = self.ids = []  # type: list[str]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                received.append(self.headers["webhook-id"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    try:
        yield running
    finally:
        running.close()


def test_killing_the_leader_under_load_loses_nothing_and_the_other_takes_over(
    cluster: Cluster, receiver: Receiver
) -> None:
    a, b, url = cluster
    by_name = {"a": a, "b": b}
    leader_name = readiness(a)["leader"]
    leader, survivor = by_name[leader_name], by_name["b" if leader_name == "a" else "a"]
    token = survivor.key("admin")
    # Created on the instance that does not deliver: the leader picks it up from the outbox.
    hook = httpx.post(
        f"{survivor.base}/api/v1/webhooks",
        headers={"Authorization": f"Bearer {token}"},
        json={"url": receiver.url, "events": ["scan.recorded"]},
        timeout=10,
    )
    assert hook.status_code == 201, hook.text
    create_code(survivor.base, token)
    wait_for(lambda: location(leader, SLUG).startswith("https:"), "the leader knows the code")
    tally = Tally()
    # Every scan must then be delivered one by one to the receiver: paced clients keep that
    # to a few thousand (unpaced, tens of thousands took minutes on a loaded machine).
    pace = Pace(batch=4, pause=0.01)
    with (
        clients(survivor.base, token, "survivor", tally, 3, 8.0, pace),
        clients(leader.base, token, "leader", tally, 3, 8.0, pace),
    ):
        time.sleep(3.0)
        # Under load the outbox may lag: the kill waits until the leader has delivered some.
        wait_for(lambda: len(receiver.ids) > 0, "the leader delivers", limit=60)
        delivered_by_the_leader = len(receiver.ids)
        assert leader.kill() == -9
        wait_for(
            lambda: readiness(survivor)["leader"] == survivor_name(survivor, by_name),
            "the survivor leads",
        )
    agents, ids = stored_agents_and_ids(url)
    assert tally.acked_scans
    assert tally.acked_events
    assert tally.acked_scans <= agents, f"lost {len(tally.acked_scans - agents)} scans"
    assert tally.acked_events <= ids, f"lost {len(tally.acked_events - ids)} events"
    # The survivor's followers reach the log's end, and what they made equals a rebuild.
    settings = load_settings({"SCANLET_DB": url}, isatty=False)

    def caught_up() -> bool:
        last = query(settings, "SELECT max(seq) FROM events WHERE type LIKE 'scan.%'")[0][0]
        applied = query(settings, "SELECT count(*) FROM raw_scans")[0][0]
        scans = query(settings, "SELECT count(*) FROM events WHERE type LIKE 'scan.%'")[0][0]
        return bool(last) and applied == scans

    wait_for(caught_up, "the survivor's analytics follower applies every scan", limit=60)
    before = run_async(_dump(url))
    run_async(_rebuild(url))
    assert run_async(_dump(url)) == before
    # Every scan reached the webhook at least once (some twice, across the kill), under the
    # event's own id; deliveries started on the leader and went on from the survivor.
    scans = {
        row[0] for row in query(settings, "SELECT id FROM events WHERE type = 'scan.recorded'")
    }
    wait_for(
        lambda: scans <= set(receiver.ids),
        lambda: f"every scan delivered: {len(scans - set(receiver.ids))} of {len(scans)} missing",
        limit=120,
    )
    assert set(receiver.ids) == scans
    assert 0 < delivered_by_the_leader < len(scans)


def survivor_name(instance: Served, by_name: dict[str, Served]) -> str:
    return next(name for name, served_ in by_name.items() if served_ is instance)


async def _dump(url: str) -> dict[str, list[tuple[object, ...]]]:
    async with open_postgres(url) as storage:
        return await storage.analytics.dump()


async def _rebuild(url: str) -> None:
    from scanlet.assembly.read_models import rebuild_read_models

    await rebuild_read_models(load_settings({"SCANLET_DB": url}, isatty=False))
