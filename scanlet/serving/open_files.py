"""The open-files limit a server needs: one descriptor for each connection it takes.

A connection is a descriptor, so a soft limit below ``SCANLET_MAX_CONNECTIONS`` lets clients
that merely connect and wait use them all up; the server then accepts no one and cannot open
a file. systemd starts services with a soft limit of 1024 (and a hard one of 524288), far
below the default 4,096 connections. Granian's extension happens to raise the soft limit to
the hard one when it is imported; this says so on purpose, for either server, and warns
where the hard limit is too low.
"""

from __future__ import annotations

import resource

import structlog

__all__ = ("OWN_FILES", "open_files_for")

log = structlog.get_logger("scanlet.serving")

#: Descriptors beside the connections: the database and its WAL files, readers, the
#: projection worker's pipes, logs, the event loop's own.
OWN_FILES = 512


def open_files_for(connections: int) -> int:
    """Raise the soft open-files limit to hold ``connections`` and this process's own
    files (never lower it); the soft limit it leaves."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + OWN_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if raised > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            log.info("open files limit raised", soft=raised, was=soft)
            soft = raised
    if soft != resource.RLIM_INFINITY and soft < wanted:
        log.warning(
            "open files limit below the connections allowed: clients that only connect can "
            "use up the descriptors; raise LimitNOFILE or lower SCANLET_MAX_CONNECTIONS",
            limit=soft,
            wanted=wanted,
        )
    return soft
