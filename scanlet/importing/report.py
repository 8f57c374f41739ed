"""What an import did, item by item and in total."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ("ImportReport", "Outcome")

#: What happened to one code: created, renamed (created under another slug), kept (an
#: earlier run of this import made it), skipped (its slug belongs to another code), failed.
Outcome = str


@dataclass
class ImportReport:
    """Counts per outcome, visits stored and seen again, and every failure in order."""

    codes: Counter[Outcome] = field(default_factory=Counter)
    visits_imported: int = 0
    visits_duplicate: int = 0
    visits_skipped: int = 0
    visits_failed: int = 0
    #: Visits the source counted without listing them (Kutt).
    visits_uncounted: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    #: Per code: (label, outcome, slug or reason), in the order the source gave them.
    items: list[tuple[str, Outcome, str]] = field(default_factory=list)
    #: What the source had that was not imported, and why: (label, text).
    notes: list[tuple[str, str]] = field(default_factory=list)
    stopped: str | None = None
    #: How long the whole run took, and its commits of visits (those paced to make room
    #: for a server using the database among them).
    seconds: float = 0.0
    commits: int = 0
    paced_commits: int = 0
    #: Commits sent to a server running on the database, which made them among its own.
    server_commits: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.failures) or self.stopped is not None

    def fail(self, label: str, reason: str) -> None:
        self.failures.append((label, reason))

    @property
    def visits_per_second(self) -> float | None:
        """Visits stored or found stored per second over the whole run (None before any)."""
        visits = self.visits_imported + self.visits_duplicate
        return visits / self.seconds if visits and self.seconds > 0 else None

    def summary(self, *, dry_run: bool) -> str:
        """One line of totals: ``codes: 3 created; visits: 4210 imported; 1316 visits/s``."""
        verb = "would import" if dry_run else "imported"
        order = ("created", "renamed", "kept", "skipped", "failed")
        codes = ", ".join(f"{self.codes[name]} {name}" for name in order if self.codes[name])
        parts = [
            f"codes: {codes or 'none'}",
            f"visits: {self.visits_imported} {verb}",
        ]
        if self.visits_duplicate:
            parts.append(f"{self.visits_duplicate} already imported")
        if self.visits_skipped:
            parts.append(f"{self.visits_skipped} skipped with their code")
        if self.visits_failed:
            parts.append(f"{self.visits_failed} failed")
        if self.visits_uncounted:
            parts.append(f"{self.visits_uncounted} counted by the source but not listed")
        rate = self.visits_per_second
        if rate is not None and not dry_run:
            parts.append(f"{rate:.0f} visits/s")
        if self.server_commits:
            parts.append(
                f"{self.server_commits} of {self.commits} commits made by the running server"
            )
        if self.paced_commits:
            parts.append(
                f"paced {self.paced_commits} of {self.commits} commits: a server was using "
                "the database"
            )
        return "; ".join(parts)
