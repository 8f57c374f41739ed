"""Granian serves RSGI (scanlet.http.rsgi): a scan answered by its RSGI entrance is stored
as uvicorn's ASGI one stores it, and every other request reaches the ASGI app whole."""

from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import Served, served, wait_ready

#: A phone's request through a trusted proxy: the fields the scan reads, repeated ones and
#: the many it reads for nothing but their size.
PHONE = [
    (b"Host", b"qr.example.com"),
    (b"Accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    (b"Sec-Fetch-Site", b"none"),
    (b"Accept-Language", b"de-DE,de;q=0.9"),
    (b"User-Agent", b"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148"),
    (b"User-Agent", b"Second/2"),
    (b"Referer", b"https://a.example/menu?x=1"),
    (b"X-Forwarded-For", b"198.51.100.4, 10.9.9.9"),
    (b"X-Forwarded-For", b"10.0.0.1"),
    (b"CF-IPCountry", b"DE"),
    (b"Cookie", b"theme=dark; scanlet_exclude=1"),
    (b"Accept-Encoding", b"gzip, deflate, br"),
]
ENV = {
    "SCANLET_TRUSTED_PROXIES": "127.0.0.1/32,10.0.0.0/8",
    "SCANLET_COUNTRY_HEADER": "cf-ipcountry",
}


def raw_request(port: int, head: bytes, host: str = "127.0.0.1") -> bytes:
    """Send ``head`` (a whole request without a body) on a new connection; the answer's
    status line and headers, and its body, as sent."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as conn:
        conn.settimeout(10)
        conn.connect((host, port))
        conn.sendall(head)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


def get(path: str, fields: list[tuple[bytes, bytes]], method: bytes = b"GET") -> bytes:
    lines = [method + b" " + path.encode() + b" HTTP/1.1", *(n + b": " + v for n, v in fields)]
    return b"\r\n".join([*lines, b"Connection: close", b"", b""])


def scans(folder: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(folder / "scanlet.db") as conn:
        rows = conn.execute(
            "SELECT payload FROM events WHERE type = 'scan.recorded' ORDER BY seq"
        ).fetchall()
    return [json.loads(payload) for (payload,) in rows]


def folder(tmp_path: Path, name: str) -> Path:
    made = tmp_path / name
    made.mkdir()
    return made


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[dict[str, Served]]:
    with (
        served(folder(tmp_path, "granian"), server="granian", env=ENV) as granian,
        served(folder(tmp_path, "uvicorn"), server="uvicorn", env=ENV) as uvicorn,
    ):
        running = {"granian": granian, "uvicorn": uvicorn}
        for server in running.values():
            server.create_code("menu")
        yield running


def test_a_scan_is_stored_alike_by_either_server(servers: dict[str, Served]) -> None:
    stored = {}
    for name, server in servers.items():
        for path in ("/menu", "/q/menu", "/Q/MENU"):
            answer = raw_request(server.port, get(path + "?utm_source=poster", PHONE))
            assert answer.startswith(b"HTTP/1.1 302"), (name, answer[:200])
            assert b"\r\nlocation: https://example.com/\r\n" in answer.lower()
            assert b"\r\nx-content-type-options: nosniff\r\n" in answer.lower()
        found = scans(server.folder)
        # Each server hashes visitors under its own database's salt: the same visitor
        # thrice, whatever the hash.
        assert len({scan.pop("visitor") for scan in found}) == 1
        stored[name] = [
            {key: value for key, value in scan.items() if key not in ("id", "occurred_at")}
            for scan in found
        ]
    assert stored["granian"] == stored["uvicorn"]
    first = stored["granian"][0]
    assert first["user_agent"].startswith("Mozilla/5.0 (iPhone")
    assert first["referrer"] == "https://a.example/menu?x=1"
    assert first["ip"] == "198.51.100.0"
    assert first["country"] == "DE"
    assert first["excluded"] is True
    assert [scan["source"] for scan in stored["granian"]] == ["link", "qr", "qr"]


def test_head_and_oversized_requests_answer_as_the_asgi_server_does(
    servers: dict[str, Served],
) -> None:
    for name, server in servers.items():
        head = raw_request(server.port, get("/menu", [(b"Host", b"a")], method=b"HEAD"))
        assert head.startswith(b"HTTP/1.1 302 ")
        assert head.endswith(b"\r\n\r\n")  # no body
        # Past the URL limit: the full app's 414, as problem+json.
        too_long = raw_request(server.port, get("/menu?q=" + "x" * 9000, [(b"Host", b"a")]))
        assert too_long.startswith(b"HTTP/1.1 414 ")
        assert b"\r\ncontent-type: application/problem+json\r\n" in too_long.lower()
        # Past the header bytes limit (16 KiB, in fewer fields than the servers' own
        # parsers allow): the full app's 431, as problem+json.
        big = [(b"Host", b"a"), *((b"X-Field-%d" % n, b"v" * 1000) for n in range(20))]
        too_big = raw_request(server.port, get("/menu", big))
        assert too_big.startswith(b"HTTP/1.1 431 "), (name, too_big[:100])
        assert b"\r\ncontent-type: application/problem+json\r\n" in too_big.lower(), name
        assert scans(server.folder) == []


def test_a_body_sent_in_pieces_reaches_the_app_whole(tmp_path: Path) -> None:
    with served(folder(tmp_path, "g"), server="granian") as server:
        token = server.key()
        body = json.dumps({"target": "https://example.com/", "slug": "pieces"}).encode()
        head = (
            b"POST /api/v1/codes HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + token.encode() + b"\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
            conn.sendall(head)
            for start in range(0, len(body), 7):
                piece = body[start : start + 7]
                conn.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            conn.sendall(b"0\r\n\r\n")
            answer = conn.recv(65536)
        assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
        assert httpx.get(f"{server.base}/pieces").status_code == 302


def test_header_bytes_granian_leaves_out_and_a_raw_query_are_no_error(tmp_path: Path) -> None:
    """Granian hands RSGI apps only header fields of visible ASCII (documented): a user
    agent of other bytes is not stored; a query of raw UTF-8 is no error either."""
    with served(folder(tmp_path, "g"), server="granian") as server:
        server.create_code("menu")
        fields = [(b"Host", b"a"), (b"User-Agent", b"caf\xe9 \xff")]
        head = get("/menu", fields).replace(b"/menu", b"/menu?name=\xc3\xa9t\xc3\xa9", 1)
        answer = raw_request(server.port, head)
        assert answer.startswith(b"HTTP/1.1 302"), answer[:200]
        (scan,) = scans(server.folder)
        assert "user_agent" not in scan
        assert "unhandled" not in server.log


def test_an_ipv6_client_is_stored_anonymised(tmp_path: Path) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    env = {"SCANLET_HOST": "::1"}
    with served(folder(tmp_path, "g"), server="granian", env=env, ready=False) as server:
        port = server.port
        wait_ready(f"http://[::1]:{port}", server.proc)
        token = server.key()
        made = httpx.post(
            f"http://[::1]:{port}/api/v1/codes",
            headers={"Authorization": f"Bearer {token}"},
            json={"target": "https://example.com/", "slug": "six"},
        )
        assert made.status_code == 201
        answer = raw_request(port, get("/six", [(b"Host", b"a")]), host="::1")
        assert answer.startswith(b"HTTP/1.1 302"), answer[:200]
        (scan,) = scans(server.folder)
        assert scan["ip"] == "::"


def test_a_scan_on_a_registered_domain_goes_where_its_host_says(
    servers: dict[str, Served],
) -> None:
    for name, server in servers.items():
        auth = {"Authorization": f"Bearer {server.key('admin')}"}
        made = httpx.post(
            f"{server.base}/api/v1/domains", headers=auth, json={"host": "qr.example.com"}
        )
        assert made.status_code == 201, made.text
        code = {"target": "https://example.com/domain", "slug": "menu", "domain": "qr.example.com"}
        made = httpx.post(f"{server.base}/api/v1/codes", headers=auth, json=code)
        assert made.status_code == 201, made.text
        for host, target in (
            (b"QR.Example.com:443", b"https://example.com/domain"),
            (b"other.example", b"https://example.com/"),
        ):
            answer = raw_request(server.port, get("/menu", [(b"Host", host)]))
            assert answer.startswith(b"HTTP/1.1 302"), (name, answer[:200])
            assert b"\r\nlocation: " + target + b"\r\n" in answer.lower(), name
        keys = [scan["slug"] for scan in scans(server.folder)]
        assert keys == ["qr.example.com/menu", "menu"], name


def test_clients_gone_before_their_answer_leave_no_error(tmp_path: Path) -> None:
    """Scans whose clients reset the connection at once, and bodies cut short: the server
    answers the next client and logs no error."""
    with served(folder(tmp_path, "g"), server="granian") as server:
        server.create_code("menu")
        reset = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # SO_LINGER on, 0 s: close is a RST
        for n in range(200):
            with socket.create_connection(("127.0.0.1", server.port)) as conn:
                if n % 2:
                    conn.sendall(b"GET /menu HTTP/1.1\r\nHost: a\r\n\r\n")
                else:
                    conn.sendall(b"POST /api/v1/codes HTTP/1.1\r\nHost: a\r\n")
                    conn.sendall(b'Content-Length: 100\r\n\r\n{"slug"')
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, reset)
        assert httpx.get(f"{server.base}/menu").status_code == 302
        log = server.log
        assert "Traceback" not in log
        assert '"level": "error"' not in log


def test_a_streamed_export_arrives_whole_under_both_servers(tmp_path: Path) -> None:
    """A CSV export larger than the socket buffers between the app and the client arrives
    whole, and alike from either server; a client that reads part of one and leaves costs
    the server no error."""
    bodies: dict[str, bytes] = {}
    for name in ("granian", "uvicorn"):
        with served(folder(tmp_path, name), server=name) as server:
            writer = server.create_code("menu")
            server.ingest(writer, "menu", 6000, note=400)
            server.wait_projected(writer, "menu", 6000)
            reader = server.key("read")
            url = f"{server.base}/api/v1/codes/menu/scans?format=csv"
            auth = {"Authorization": f"Bearer {reader}"}
            with httpx.stream("GET", url, headers=auth, timeout=30) as answer:
                assert answer.status_code == 200
                chunks = list(answer.iter_bytes())
            bodies[name] = b"".join(chunks)
            with httpx.stream("GET", url, headers=auth, timeout=30) as answer:
                next(answer.iter_bytes())  # and away
            assert httpx.get(f"{server.base}/menu").status_code == 302
            assert "Traceback" not in server.log
    rows = bodies["granian"].decode().splitlines()
    assert len(rows) == 6001  # the header and every scan
    assert len(bodies["granian"]) > 3_000_000
    # The same scans in the same order; only their ids and times differ between the runs.
    assert [row.count(",") for row in rows] == [
        row.count(",") for row in bodies["uvicorn"].decode().splitlines()
    ]
