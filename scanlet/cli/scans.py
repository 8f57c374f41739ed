"""``scanlet scans tail``: follow a running server's scans, like ``tail -f``.

It reads ``GET /api/v1/stream`` (Server-Sent Events) with a key, so it sees what the server
records as it records it, on any machine that can reach the server. One line per scan;
Ctrl-C ends it with exit code 0. When a stream it had drops (the server restarted, the
network went away), it says so on stderr and connects again, after pauses that double up
to ``RECONNECT_PAUSES[1]``, sending ``Last-Event-ID``: the server replays what was
recorded meanwhile, so no scan is missed or shown twice. A refusal (a revoked key, say)
ends it, as at the start.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec

from scanlet.actors.events import SCAN_EVENT_TYPES
from scanlet.cli.common import (
    EXIT_OK,
    CommandFailed,
    Parser,
    Subcommands,
    printable,
    settings_from,
)

__all__ = ("register", "scan_line", "sse_messages")

#: Seconds to connect; reading waits for as long as the stream is quiet (heartbeats come).
CONNECT_TIMEOUT = 10.0
#: Seconds before connecting again after a drop, doubled up to the last.
RECONNECT_PAUSES = (0.5, 10.0)
#: Answers to a reconnect that mean "not now" rather than "no": try again after a pause.
_TRY_AGAIN = frozenset({429, 502, 503, 504})


class _Body(msgspec.Struct):
    """The part of a stream message a line shows (the webhook body: {type, id, seq, ...})."""

    type: str
    occurred_at: str
    data: dict[str, Any]


def sse_messages(lines: Iterator[str]) -> Iterator[tuple[str, str, str | None]]:
    """``(event, data, id)`` for each message of a Server-Sent Events stream (comments and
    heartbeats skipped; several ``data:`` lines joined by newlines, as the format says; the
    id is the last one the stream set, as a client's ``Last-Event-ID``)."""
    event = "message"
    data: list[str] = []
    last_id: str | None = None
    for raw in lines:
        line = raw.rstrip("\r")
        if not line:
            if data:
                yield event, "\n".join(data), last_id
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
            elif name == "id" and "\0" not in value and value.isascii():
                # Sent back as a header: ASCII only (this server's ids are digits).
                last_id = value


def scan_line(data: str) -> str:
    """One line for a scan: when, the slug (``?`` marks an unknown one), source, country,
    and the user agent, each made printable (a visitor chose the agent and an unknown slug)
    and free of tabs so the columns hold."""
    body = msgspec.json.decode(data, type=_Body)
    scan = body.data
    slug = str(scan.get("slug", "-"))
    if body.type == "scan.orphaned":
        slug += "?"
    fields = [
        body.occurred_at,
        slug,
        str(scan.get("source") or "-"),
        str(scan.get("country") or "-"),
        str(scan.get("user_agent") or "-"),
    ]
    return "  ".join(printable(field) for field in fields)


def _server(args: argparse.Namespace) -> str:
    url = args.server or settings_from(args).public_base_url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CommandFailed(
            f"--server: expected an http(s) URL such as http://127.0.0.1:8000, got {url!r}"
        )
    return url.rstrip("/")


def _refusal(response: httpx.Response) -> str:
    """A refused stream as one line: the problem's detail when there is one."""
    response.read()
    try:
        detail = str(msgspec.json.decode(response.content)["detail"])
    except (msgspec.DecodeError, KeyError, TypeError):
        detail = response.reason_phrase
    return f"the server answered {response.status_code}: {detail}"


class _Place:
    """Where a tail stands in the stream: the last event id the server set (it survives a
    stream that breaks off, and a reconnect resumes after it)."""

    __slots__ = ("last_id",)

    def __init__(self) -> None:
        self.last_id: str | None = None


def _print_scans(answer: httpx.Response, fmt: str, place: _Place) -> None:
    """Print the scans of an open stream until it ends, keeping ``place`` up to date."""
    for event, data, event_id in sse_messages(answer.iter_lines()):
        if event_id is not None:
            place.last_id = event_id
        if event in SCAN_EVENT_TYPES:
            print(data if fmt == "json" else scan_line(data), flush=True)


def cmd_scans_tail(args: argparse.Namespace) -> int:
    """Print each scan the server records from now on, until Ctrl-C."""
    key = args.key or os.environ.get("SCANLET_KEY")
    if not key:
        args.parser.error("an API key is needed: --key KEY or SCANLET_KEY")
    params = {"types": ",".join(SCAN_EVENT_TYPES)}
    if args.slug is not None:
        params["slug"] = args.slug
    url = f"{_server(args)}/api/v1/stream"
    timeout = httpx.Timeout(CONNECT_TIMEOUT, read=None)
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
    place = _Place()
    followed = False  # whether a stream was ever open: only then is a drop worth a retry
    pause = RECONNECT_PAUSES[0]
    try:
        while True:
            resume = {} if place.last_id is None else {"Last-Event-ID": place.last_id}
            try:
                with httpx.stream(
                    "GET", url, params=params, headers={**headers, **resume}, timeout=timeout
                ) as answer:
                    if answer.status_code != 200:
                        if not (followed and answer.status_code in _TRY_AGAIN):
                            raise CommandFailed(_refusal(answer))
                        why = f"the server answered {answer.status_code}"
                    else:
                        if followed:
                            print("scanlet: following again", file=sys.stderr, flush=True)
                        followed, pause = True, RECONNECT_PAUSES[0]
                        _print_scans(answer, args.format, place)
                        why = "the server closed the stream"
            except httpx.HTTPError as exc:
                if not followed:
                    raise CommandFailed(f"cannot follow {url}: {exc}") from None
                why = f"lost {url}: {exc}"
            print(f"scanlet: {why}; trying again in {pause:g} s", file=sys.stderr, flush=True)
            time.sleep(pause)
            pause = min(2 * pause, RECONNECT_PAUSES[1])
    except KeyboardInterrupt:
        return EXIT_OK


def register(sub: Subcommands) -> None:
    scans = sub.add_parser("scans", help="follow the scans of a running server")
    scans_sub = scans.add_subparsers(dest="scans_command", required=True, parser_class=Parser)
    tail = scans_sub.add_parser(
        "tail",
        help="print each scan as a running server records it, until Ctrl-C",
        description="Follows GET /api/v1/stream of a running server; needs a key with the "
        "read scope. Lines: time, slug (? for an unknown one), source, country, user agent.",
    )
    tail.add_argument("slug", metavar="SLUG", nargs="?", help="only this code's scans")
    tail.add_argument("--server", metavar="URL", help="the server (SCANLET_BASE_URL)")
    tail.add_argument("--key", help="an API key (SCANLET_KEY)")
    tail.add_argument(
        "--format", choices=["line", "json"], default="line", help="json: each event's body"
    )
    tail.set_defaults(func=cmd_scans_tail, parser=tail)
