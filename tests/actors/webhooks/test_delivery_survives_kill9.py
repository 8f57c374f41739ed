"""Pending webhook deliveries survive kill -9: a real server, a real receiver, a real SIGKILL.

The receiver fails every delivery at first; deliveries to one endpoint keep their order, so
the first scan's delivery is retried (same webhook-id) while the others wait behind it, all
pending in the outbox when the server is killed without warning. After a restart the
receiver accepts, and every scan must arrive once, in log order, the first with the id it
carried before the kill.
"""

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from scanlet.config import Settings
from tests.dbquery import query
from tests.processes import create_key, served

SCANS = 5


class Receiver:
    """A loopback webhook receiver that answers 500 until told to accept."""

    def __init__(self) -> None:
        self.accepting = False
        self.seen: list[tuple[str, int]] = []  # (webhook-id, status answered)
        self.accepted: dict[str, dict[str, object]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                webhook_id = self.headers["webhook-id"]
                status = 200 if receiver.accepting else 500
                with receiver.lock:
                    receiver.seen.append((webhook_id, status))
                    if status == 200:
                        receiver.accepted[webhook_id] = json.loads(body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def failures(self) -> list[str]:
        with self.lock:
            return [webhook_id for webhook_id, status in self.seen if status == 500]

    def accepted_in_order(self) -> list[str]:
        with self.lock:
            return [webhook_id for webhook_id, status in self.seen if status == 200]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    rec.thread.start()
    try:
        yield rec
    finally:
        rec.server.shutdown()
        rec.server.server_close()


# Quick retries, and a loopback receiver allowed (it is a private address).
ENV = {
    "SCANLET_WEBHOOK_ALLOW_PRIVATE": "true",
    "SCANLET_WEBHOOK_RETRY_BASE": "0.2",
    "SCANLET_LOG_LEVEL": "warning",
}


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    """Poll a condition of the outside world (delivery by another process): not a timing test."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_pending_deliveries_survive_kill_9_with_the_same_webhook_id(
    tmp_path: Path, scanlet_db: str, db_settings: Settings, receiver: Receiver
) -> None:
    env = {**ENV, "SCANLET_DB": scanlet_db}
    token = create_key(tmp_path, "admin", {**os.environ, **env})
    headers = {"Authorization": f"Bearer {token}"}
    with served(tmp_path, env=env) as running:
        base = running.base
        hook = httpx.post(
            f"{base}/api/v1/webhooks",
            headers=headers,
            json={"url": receiver.url, "events": ["scan.recorded"]},
        )
        assert hook.status_code == 201, hook.text
        code = httpx.post(
            f"{base}/api/v1/codes",
            headers=headers,
            json={"target": "https://example.com/", "slug": "hooked"},
        )
        assert code.status_code == 201, code.text
        for _ in range(SCANS):
            assert httpx.get(f"{base}/hooked").status_code == 302
        wait_until(lambda: len(receiver.failures()) >= 2, "a failed attempt and its retry")
        running.kill()
    rows = query(db_settings, "SELECT id FROM events WHERE type = 'scan.recorded' ORDER BY seq")
    scan_ids = [row[0] for row in rows]
    assert len(scan_ids) == SCANS
    failed_before_kill = receiver.failures()
    assert set(failed_before_kill) == {scan_ids[0]}, "retries keep the webhook-id"
    receiver.accepting = True
    # Restarted on the same port, as a service would be.
    with served(tmp_path, env=env, port=running.port) as restarted:
        wait_until(lambda: len(receiver.accepted) == SCANS, "redelivery after restart")
        assert restarted.terminate() == 0
    assert receiver.accepted_in_order() == scan_ids
    assert all(body["type"] == "scan.recorded" for body in receiver.accepted.values())
    assert [receiver.accepted[i]["id"] for i in scan_ids] == scan_ids
