"""``scanlet webhooks`` and ``scanlet scans tail`` through the real executable: the API's
registry and checks, deliveries by a running server to an endpoint the command line added,
and a tail of a running server's scans that ends cleanly on Ctrl-C."""

import contextlib
import json
import queue
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest

from scanlet.cli.scans import scan_line, sse_messages
from tests.clirun import SCANLET, scanlet
from tests.processes import served

PRIVATE = {"SCANLET_WEBHOOK_ALLOW_PRIVATE": "true"}


def test_webhooks_add_list_remove(scanlet_db: str, tmp_path: Path) -> None:
    db = {"SCANLET_DB": scanlet_db}
    assert scanlet("migrate", cwd=tmp_path, env=db).returncode == 0
    added = scanlet(
        "webhooks", "add", "http://127.0.0.1:9/hook", "--event", "scan.recorded",
        "--event", "code.created", cwd=tmp_path, env={**PRIVATE, **db},
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    secret = added.stdout.splitlines()[-1]
    assert secret.startswith("whsec_")
    listed = scanlet("webhooks", "list", "--format", "json", cwd=tmp_path, env=db)
    [endpoint] = json.loads(listed.stdout)
    assert endpoint["url"] == "http://127.0.0.1:9/hook"
    assert endpoint["events"] == ["scan.recorded", "code.created"]
    assert "secret" not in endpoint
    assert secret not in listed.stdout
    removed = scanlet("webhooks", "remove", endpoint["id"], cwd=tmp_path, env=db)
    assert removed.stdout == f"removed webhook {endpoint['id']}\n"
    after = scanlet("webhooks", "list", "--format", "json", cwd=tmp_path, env=db)
    assert json.loads(after.stdout) == []


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["add", "http://127.0.0.1:9/hook"], {}, "url: 127.0.0.1 is a loopback address"),
        (["add", "http://10.0.0.1/hook"], {}, "url: 10.0.0.1 is a private address"),
        (["add", "ftp://127.0.0.1/x"], PRIVATE, "url: only http and https URLs are allowed"),
        (["add", "http://u:p@127.0.0.1/x"], PRIVATE, "url:"),
        (["add", "http://127.0.0.1/x", "--event", "bogus"], PRIVATE, "unknown event type"),
        (["add", "x" * 3000], PRIVATE, "url:"),
        (["remove", "wh_nope"], {}, "no webhook endpoint with id 'wh_nope'"),
    ],
)
def test_refusals_are_the_apis_in_one_line(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    assert scanlet("migrate", cwd=tmp_path).returncode == 0
    result = scanlet("webhooks", *args, cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert json.loads(scanlet("webhooks", "list", "--format", "json", cwd=tmp_path).stdout) == []


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, object]]]]:
    """A local endpoint that answers 204 and keeps every body it is sent."""
    bodies: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["content-length"])
            bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", bodies
    finally:
        server.shutdown()
        server.server_close()


def test_a_running_server_delivers_to_an_endpoint_the_command_line_added(
    tmp_path: Path, receiver: tuple[str, list[dict[str, object]]]
) -> None:
    url, bodies = receiver
    with served(tmp_path, env=PRIVATE) as server:
        env = {**PRIVATE, "SCANLET_PORT": str(server.port)}
        added = scanlet("webhooks", "add", url, "--event", "code.created", cwd=tmp_path, env=env)
        assert added.returncode == 0, added.stderr
        made = scanlet(
            "codes", "create", "https://example.com", "--slug", "hooked", cwd=tmp_path, env=env
        )
        assert made.returncode == 0, made.stderr
        end = time.monotonic() + 30
        while not bodies and time.monotonic() < end:
            time.sleep(0.1)
    assert [b["type"] for b in bodies] == ["code.created"]
    data = bodies[0]["data"]
    assert isinstance(data, dict)
    assert data["code"]["slug"] == "hooked"


def test_scans_tail_prints_each_scan_and_ends_with_0_on_ctrl_c(tmp_path: Path) -> None:
    with served(tmp_path) as server:
        # Through the server, which serves a code the command line made only after a resync.
        server.create_code("menu", "https://example.com")
        key = server.key("read")
        tail = subprocess.Popen(
            [SCANLET, "scans", "tail", "menu", "--server", server.base],
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", "SCANLET_KEY": key},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            line = _first_line_while_scanning(tail, f"{server.base}/q/menu")
        finally:
            tail.send_signal(signal.SIGINT)
            code = tail.wait(timeout=30)
            assert tail.stderr is not None
            err = tail.stderr.read()
            tail.stdout.close()  # type: ignore[union-attr]
            tail.stderr.close()
    fields = line.split("  ")
    assert fields[1:4] == ["menu", "qr", "-"]
    assert fields[4] == "tail-test/1.0"
    assert code == 0
    assert err == ""


def test_scans_tail_follows_a_restarted_server_without_missing_or_repeating(
    tmp_path: Path,
) -> None:
    tail: subprocess.Popen[str] | None = None
    reader: threading.Thread | None = None
    printed: queue.Queue[str] = queue.Queue()

    def scan_until_printed(base: str, agent: str) -> str:
        end = time.monotonic() + 30
        while time.monotonic() < end:
            assert httpx.get(f"{base}/q/menu", headers={"User-Agent": agent}).status_code == 302
            with contextlib.suppress(queue.Empty):
                return printed.get(timeout=0.5)
        raise AssertionError("the tail printed nothing")

    try:
        with served(tmp_path) as server:
            server.create_code("menu", "https://example.com")
            port = server.port
            tail = subprocess.Popen(
                [SCANLET, "scans", "tail", "menu", "--server", server.base],
                cwd=tmp_path,
                env={"PATH": "/usr/bin:/bin", "SCANLET_KEY": server.key("read")},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            out = tail.stdout
            assert out is not None

            def read_lines() -> None:
                with out:
                    for line in out:
                        printed.put(line)

            reader = threading.Thread(target=read_lines, daemon=True)
            reader.start()
            first = scan_until_printed(server.base, "before/1")
        # The server is gone and the tail waits for it. Scans the next server records before
        # the tail is back are replayed from the log: none missed, none twice.
        with served(tmp_path, port=port) as again:
            for n in range(3):
                scanned = httpx.get(f"{again.base}/q/menu", headers={"User-Agent": f"gap/{n}"})
                assert scanned.status_code == 302
            lines = [printed.get(timeout=30) for _ in range(3)]
            after = scan_until_printed(again.base, "after/1")
    finally:
        if tail is not None:
            tail.send_signal(signal.SIGINT)
            code = tail.wait(timeout=30)
            assert tail.stderr is not None
            err = tail.stderr.read()
            tail.stderr.close()
        if reader is not None:
            reader.join(timeout=30)
    assert first.split("  ")[4].rstrip("\n") == "before/1"
    assert [line.split("  ")[4].rstrip("\n") for line in lines] == ["gap/0", "gap/1", "gap/2"]
    assert after.split("  ")[4].rstrip("\n") == "after/1"
    assert printed.empty()
    assert code == 0
    assert "trying again in" in err
    assert "following again" in err


def _first_line_while_scanning(tail: subprocess.Popen[str], url: str) -> str:
    """Scan until the tail prints (the stream starts at its connection, which we cannot
    see from here), with a generous limit."""
    assert tail.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(tail.stdout, selectors.EVENT_READ)
    end = time.monotonic() + 30
    while time.monotonic() < end:
        assert httpx.get(url, headers={"User-Agent": "tail-test/1.0"}).status_code == 302
        if selector.select(timeout=0.5):
            return tail.stdout.readline().rstrip("\n")
    raise AssertionError("the tail printed nothing")


def test_tail_refusals_are_one_line(tmp_path: Path) -> None:
    with served(tmp_path) as server:
        bad_key = scanlet("scans", "tail", "--server", server.base, "--key", "slk_x", cwd=tmp_path)
    assert bad_key.returncode == 1
    assert bad_key.stderr.startswith("scanlet: the server answered 401")
    assert bad_key.stderr.count("\n") == 1
    no_key = scanlet("scans", "tail", "--server", server.base, cwd=tmp_path)
    assert no_key.returncode == 2
    assert "--key KEY or SCANLET_KEY" in no_key.stderr
    bad_url = scanlet("scans", "tail", "--server", "file:///etc", "--key", "k", cwd=tmp_path)
    assert (bad_url.returncode, bad_url.stderr.count("\n")) == (1, 1)
    gone = scanlet("scans", "tail", "--server", server.base, "--key", "k", cwd=tmp_path)
    assert gone.returncode == 1
    assert gone.stderr.startswith("scanlet: cannot follow")


def test_stream_messages_become_scan_lines() -> None:
    raw = [
        ": heartbeat",
        "",
        "id: 7",
        "event: scan.orphaned",
        'data: {"type":"scan.orphaned","id":"e","seq":7,"occurred_at":"2026-12-01T00:00:00Z",'
        '"data":{"slug":"typo","source":"link","user_agent":"a\\tb"}}',
        "",
    ]
    [(event, data, event_id)] = list(sse_messages(iter(raw)))
    assert (event, event_id) == ("scan.orphaned", "7")
    assert scan_line(data) == "2026-12-01T00:00:00Z  typo?  link  -  a b"


def test_an_id_that_cannot_be_sent_back_keeps_the_last_good_one() -> None:
    # The id goes back as Last-Event-ID: one with a NUL or beyond ASCII is not kept.
    raw = ["id: 8", "data: a", "", "id: 9\0", "data: b", "", "id: 1é", "data: c", ""]
    assert [event_id for _, _, event_id in sse_messages(iter(raw))] == ["8", "8", "8"]


def test_what_visitors_sent_cannot_drive_the_terminal() -> None:
    # A user agent (and an unknown slug) is whatever a client sent: escape sequences in it
    # would clear or rewrite the screen of whoever tails the scans.
    data = json.dumps(
        {
            "type": "scan.orphaned",
            "occurred_at": "2026-12-01T00:00:00Z",
            "data": {"slug": "x\x1b]0;owned\x07", "source": "link", "user_agent": "\x1b[2Jbot"},
        }
    )
    line = scan_line(data)
    assert "\x1b" not in line
    assert "\x07" not in line
    assert line == "2026-12-01T00:00:00Z  x?]0;owned??  link  -  ?[2Jbot"
