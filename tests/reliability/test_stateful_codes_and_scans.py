"""A stateful model of codes and scans (hypothesis): create, retarget, disable, enable,
delete, scan and ingest (with duplicate ids), each checked against the API's answers."""

import tempfile
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from starlette.testclient import TestClient

from tests.pg import PgDatabases
from tests.reliability.conftest import make_app, mint
from tests.serving import still_serving

SLUGS = st.sampled_from(["menu", "door", "promo"])
TARGETS = st.sampled_from(["https://example.com/a", "https://example.org/b?x=1"])


class CodesAndScans(RuleBasedStateMachine):
    """The model: live codes with target and enabled flag, deleted slugs, scan counts."""

    def __init__(self, database: AbstractContextManager[str]) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory(prefix="scanlet-model-")
        self.database = database
        self.app = make_app(database.__enter__(), Path(self.folder.name))
        self.client = TestClient(self.app, base_url="http://qr.test", follow_redirects=False)
        self.client.__enter__()
        self.headers = mint(self.app, self.client)
        self.codes: dict[str, tuple[str, bool]] = {}  # slug -> (target, enabled)
        self.deleted: set[str] = set()
        self.scans: dict[str, int] = {}
        self.sent_ids: list[str] = []

    def teardown(self) -> None:
        try:
            still_serving(self.app, self.client)
        finally:
            self.client.__exit__(None, None, None)
            self.database.__exit__(None, None, None)
            self.folder.cleanup()

    @rule(slug=SLUGS, url=TARGETS)
    def create(self, slug: str, url: str) -> None:
        answer = self.client.post(
            "/api/v1/codes", headers=self.headers, json={"slug": slug, "target": url}
        )
        if slug in self.codes or slug in self.deleted:
            assert answer.status_code == 409
            return
        assert answer.status_code == 201
        self.codes[slug] = (url, True)
        self.scans[slug] = 0

    @rule(slug=SLUGS, url=TARGETS)
    def retarget(self, slug: str, url: str) -> None:
        answer = self.client.patch(
            f"/api/v1/codes/{slug}", headers=self.headers, json={"target": url}
        )
        if slug not in self.codes:
            assert answer.status_code == 404
            return
        assert answer.status_code == 200
        assert answer.json()["target"] == url
        self.codes[slug] = (url, self.codes[slug][1])

    @rule(slug=SLUGS, enabled=st.booleans())
    def set_enabled(self, slug: str, enabled: bool) -> None:
        answer = self.client.patch(
            f"/api/v1/codes/{slug}", headers=self.headers, json={"enabled": enabled}
        )
        if slug not in self.codes:
            assert answer.status_code == 404
            return
        assert answer.status_code == 200
        self.codes[slug] = (self.codes[slug][0], enabled)

    @rule(slug=SLUGS)
    def delete(self, slug: str) -> None:
        answer = self.client.delete(f"/api/v1/codes/{slug}", headers=self.headers)
        if slug not in self.codes:
            assert answer.status_code == 404
            return
        assert answer.status_code == 204
        del self.codes[slug]
        self.deleted.add(slug)

    @rule(slug=SLUGS, qr=st.booleans())
    def scan(self, slug: str, qr: bool) -> None:
        answer = self.client.get(f"/q/{slug}" if qr else f"/{slug}")
        if slug in self.codes and self.codes[slug][1]:
            assert answer.status_code == 302
            assert answer.headers["location"] == self.codes[slug][0]
            self.scans[slug] += 1
        elif slug in self.codes or slug in self.deleted:
            assert answer.status_code == 410
        else:
            assert answer.status_code == 404

    @rule(slug=SLUGS, fresh=st.integers(0, 3), resend=st.integers(0, 3))
    def ingest(self, slug: str, fresh: int, resend: int) -> None:
        # New ids, plus some already sent (duplicates), plus one repeated inside the batch.
        ids = [str(uuid.uuid4()) for _ in range(fresh)]
        ids += self.sent_ids[-resend:] if resend else []
        ids = ids + ids[:1] if ids else [str(uuid.uuid4())]
        now = datetime.now(UTC).isoformat()
        events = [{"type": "scan", "id": i, "slug": slug, "occurred_at": now} for i in ids]
        answer = self.client.post("/api/v1/events", headers=self.headers, json={"events": events})
        assert answer.status_code == 200
        statuses = [r["status"] for r in answer.json()["results"]]
        taken = slug in self.codes or slug in self.deleted
        seen: set[str] = set(self.sent_ids)
        expected = []
        for i in ids:
            if not taken:
                expected.append("rejected")
            elif i in seen:
                expected.append("duplicate")
            else:
                expected.append("accepted")
                seen.add(i)
                self.sent_ids.append(i)
                if slug in self.scans:
                    self.scans[slug] += 1
        assert statuses == expected

    @precondition(lambda self: bool(self.codes))
    @invariant()
    def counters_match_the_scans_answered(self) -> None:
        for slug in self.codes:
            code = self.client.get(f"/api/v1/codes/{slug}", headers=self.headers).json()
            assert code["scans"] == self.scans[slug]


MODEL_SETTINGS = settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class SqliteFile(AbstractContextManager[str]):
    """A new SQLite file for one example (in the example's own folder, made on enter)."""

    def __enter__(self) -> str:
        self.folder = tempfile.TemporaryDirectory(prefix="scanlet-model-db-")
        return str(Path(self.folder.name) / "scanlet.db")

    def __exit__(self, *exc: object) -> None:
        self.folder.cleanup()


class PgDatabase(AbstractContextManager[str]):
    """A new PostgreSQL database for one example. It is dropped with the run's others at the
    end, not after its example: a DROP DATABASE waits for a checkpoint (about a second on a
    busy 2-core box), most of what an example would cost."""

    def __init__(self, databases: PgDatabases) -> None:
        self.databases = databases

    def __enter__(self) -> str:
        return self.databases.create()

    def __exit__(self, *exc: object) -> None:
        pass


def test_codes_and_scans_follow_the_model(backend: str, request: pytest.FixtureRequest) -> None:
    # Each example is a new machine on a new, empty database of the backend.
    database: Callable[[], AbstractContextManager[str]] = SqliteFile
    if backend == "postgresql":
        databases: PgDatabases = request.getfixturevalue("pg_databases")
        database = lambda: PgDatabase(databases)  # noqa: E731 - a factory, read in place
    # hypothesis takes any factory of machines here; its stub names only the class.
    run_state_machine_as_test(
        lambda: CodesAndScans(database()),  # type: ignore[arg-type]
        settings=MODEL_SETTINGS,
    )
