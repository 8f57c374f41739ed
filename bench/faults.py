"""Fault scripts: prove what Scanlet promises under crashes, shutdowns, overload and restarts.

    python bench/faults.py kill9    [--rounds 10]   SIGKILL under load, N times: nothing lost
    python bench/faults.py sigterm  [--server both] SIGTERM under load: drained, exit 0
    python bench/faults.py overload [--seconds 20]  wrk -c2000: bounded RSS, 503s, recovery
    python bench/faults.py restart  [--events 1M]   kill -9 with a 1M-event log: time to ready

The scenarios live in ``tests/faults`` (the test suite runs quick ones and asserts on their
results); this script runs them in full, prints their figures and exits 1 when a promise
fails. Every request goes to 127.0.0.1; every loop is bounded in count and in time.
Redirects carry a unique User-Agent and device events a unique id, so "acknowledged" is a
set and the check is a set difference against what the database holds afterwards (Jepsen
style), not a count.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import require_wrk

from tests.faults import (
    Kill9Plan,
    Kill9Result,
    Kill9Round,
    OverloadPlan,
    OverloadResult,
    RestartPlan,
    RestartResult,
    SigtermPlan,
    SigtermResult,
    run_kill9,
    run_overload,
    run_restart,
    run_sigterm,
)
from tests.wrk import SERVER_CORE


def print_round(done: Kill9Round) -> None:
    """One kill9 round, as it ends."""
    print(
        f"round {done.number:2d}: killed after {done.killed_after:4.2f} s, acked"
        f" {done.acked_scans:5d} redirects {done.acked_events:5d} events,"
        f" restart ready in {done.ready_seconds:4.2f} s, integrity {done.integrity}",
        flush=True,
    )


def print_kill9(result: Kill9Result) -> None:
    """kill9's totals."""
    print(
        f"redirects: acknowledged {result.acked_scans} stored {result.stored_scans}"
        f" lost {result.lost_scans} (unanswered when killed: {result.unanswered_scans},"
        f" of which stored {result.unanswered_scans_stored})"
    )
    print(
        f"events:    acknowledged {result.acked_events} stored {result.stored_events}"
        f" lost {result.lost_events}; resent: {result.resent}"
    )
    print(f"integrity_check: {result.integrity}; final SIGTERM exit code {result.exit_code}")


def print_sigterm(result: SigtermResult) -> None:
    """One server's drain."""
    print(
        f"{result.server:8s}: exit {result.exit_code} after {result.drain_seconds:.2f} s"
        f" (graceful timeout {result.plan.timeout:g} s, one client stuck mid-body);"
        f" answered {result.answered} {result.statuses}; 5xx {result.five_xx};"
        f" transport errors {result.transport_errors}"
    )
    print(
        f"{'':8s}  acked redirects {result.acked_scans} events {result.acked_events};"
        f" lost {result.lost}; accepted but unanswered {result.unanswered_stored};"
        f" followers behind {result.followers_behind or 0}; integrity {result.integrity}"
    )


def print_overload(result: OverloadResult) -> None:
    """Before, during and after the overload."""
    plan, base, heavy, after = result.plan, result.sustainable, result.heavy, result.after
    print(f"sustainable: {base.rps:8.0f} req/s at 64 connections, p99 {base.p99_ms:.1f} ms")
    print(
        f"overload:    {heavy.rps:8.0f} req/s at {plan.connections} connections,"
        f" p50 {heavy.p50_ms:.0f} ms p99 {heavy.p99_ms:.0f} ms;"
        f" non-3xx/errors {heavy.errors} of {heavy.requests} ({result.error_share:.1%});"
        f" 503 answered by the server {result.refused}"
    )
    samples = result.rss_samples
    shown = " ".join(f"{at:4.1f}: {rss:5.1f}" for at, rss in samples[:: max(1, len(samples) // 12)])
    print(f"RSS over time (s: MB): {shown}")
    print(
        f"RSS idle {result.idle_rss_mb:.1f} MB, peak {result.peak_rss_mb:.1f} MB,"
        f" bound {plan.rss_bound} MB"
    )
    print(
        f"recovery: first 302 and /readyz 200 after {result.recovery_seconds:.2f} s;"
        f" then {after.rps:.0f} req/s at 64 connections, errors {after.errors};"
        f" RSS {result.after_rss_mb:.1f} MB"
    )


def print_restart(result: RestartResult) -> None:
    """Both starts, the redirects during catch-up, the catch-up and the stop."""
    events = result.plan.events
    print(f"log: {events} scan events appended in {result.fill_seconds:.1f} s (analytics behind)")
    print(
        f"start with {events} events behind: ready in {result.first_ready_seconds:.2f} s;"
        f" redirects during catch-up: max {result.redirect_max_ms:.0f} ms,"
        f" median {result.redirect_median_ms:.0f} ms"
    )
    print(
        f"kill -9 during catch-up (analytics lag {result.lag_before_kill:.0f}):"
        f" ready again in {result.second_ready_seconds:.2f} s"
    )
    print(
        f"analytics caught up: lag {result.final_lag:.0f}"
        f" after {result.catch_up_seconds:.1f} s more"
    )
    print(f"SIGTERM: exit {result.exit_code} in {result.stop_seconds:.2f} s")


def kill9(args: argparse.Namespace, folder: Path) -> bool:
    """SIGKILL the server at random moments under load; nothing acknowledged may be lost."""
    plan = Kill9Plan(args.rounds, args.clients, args.min_wait, args.max_wait)
    result = run_kill9(
        folder,
        plan,
        server=args.server,
        core=args.core,
        seed=args.seed,
        on_round=print_round,
    )
    print_kill9(result)
    return result.passed


def sigterm(args: argparse.Namespace, folder: Path) -> bool:
    """SIGTERM under load for each server, each on its own database."""
    plan = SigtermPlan(args.clients, args.min_wait, args.max_wait, args.timeout, args.margin)
    kinds = ["granian", "uvicorn"] if args.server == "both" else [args.server]
    passed = True
    for kind in kinds:
        (folder / kind).mkdir()
        result = run_sigterm(folder / kind, plan, server=kind, core=args.core, seed=args.seed)
        print_sigterm(result)
        passed = passed and result.passed
    return passed


def overload(args: argparse.Namespace, folder: Path) -> bool:
    """Several times the sustainable load: bounded mailboxes and RSS, 503s, recovery."""
    plan = OverloadPlan(args.seconds, args.connections, args.queue, args.rss_bound)
    result = run_overload(folder, plan, server=args.server, core=args.core)
    print_overload(result)
    return result.passed


def restart(args: argparse.Namespace, folder: Path) -> bool:
    """Time to /readyz 200 after kill -9 with a big log and a follower far behind."""
    plan = RestartPlan(args.events, args.ready_bound, args.catch_up_limit)
    result = run_restart(folder, plan, server=args.server, core=args.core)
    print_restart(result)
    return result.passed


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; each scenario's defaults are its plan's."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="granian", help="granian, uvicorn (sigterm: both)")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="no taskset")
    parser.add_argument("--seed", type=int, default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    k, kill9_plan = sub.add_parser("kill9"), Kill9Plan()
    k.add_argument("--rounds", type=int, default=kill9_plan.rounds)
    k.add_argument("--clients", type=int, default=kill9_plan.clients)
    k.add_argument("--min-wait", type=float, default=kill9_plan.min_wait)
    k.add_argument("--max-wait", type=float, default=kill9_plan.max_wait)
    t, sigterm_plan = sub.add_parser("sigterm"), SigtermPlan()
    t.add_argument("--clients", type=int, default=sigterm_plan.clients)
    t.add_argument("--min-wait", type=float, default=sigterm_plan.min_wait)
    t.add_argument("--max-wait", type=float, default=sigterm_plan.max_wait)
    t.add_argument(
        "--timeout", type=float, default=sigterm_plan.timeout, help="SCANLET_SHUTDOWN_TIMEOUT"
    )
    # Past the graceful timeout: the actors drain and stop, the process exits.
    t.add_argument(
        "--margin",
        type=float,
        default=sigterm_plan.margin,
        help="seconds allowed past the timeout",
    )
    o, overload_plan = sub.add_parser("overload"), OverloadPlan()
    o.add_argument("--seconds", type=int, default=overload_plan.seconds)
    o.add_argument("--connections", type=int, default=overload_plan.connections)
    o.add_argument("--queue", type=int, default=overload_plan.queue, help="SCANLET_SCAN_QUEUE")
    o.add_argument("--rss-bound", type=float, default=overload_plan.rss_bound, help="MB")
    r, restart_plan = sub.add_parser("restart"), RestartPlan()
    r.add_argument("--events", type=int, default=restart_plan.events)
    r.add_argument("--ready-bound", type=float, default=restart_plan.ready_bound, help="seconds")
    r.add_argument(
        "--catch-up-limit", type=float, default=restart_plan.catch_up_limit, help="seconds"
    )
    args = parser.parse_args(argv)
    if args.command == "sigterm" and "--server" not in (argv or sys.argv):
        args.server = "both"
    args.core = SERVER_CORE if args.pin else None
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the sub-command, run it in a temporary folder, exit 1 if a promise failed."""
    args = parse(argv)
    if args.command == "overload":
        require_wrk()
    commands = {"kill9": kill9, "sigterm": sigterm, "overload": overload, "restart": restart}
    with tempfile.TemporaryDirectory(prefix=f"scanlet-{args.command}-") as tmp:
        started = time.monotonic()
        ok = commands[args.command](args, Path(tmp))
        print(f"{args.command}: {'PASS' if ok else 'FAIL'} in {time.monotonic() - started:.0f} s")
        if not ok:
            for path in [Path(tmp) / "server.log", *Path(tmp).glob("*/server.log")]:
                if path.exists():
                    print(
                        f"--- {path.name} (last lines)\n"
                        + "\n".join(path.read_text().splitlines()[-15:])
                    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
