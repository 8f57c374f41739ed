"""Password-protected codes: a form, the right password redirects (and records the scan
then), wrong ones are refused and rate-limited per address; the password is write-only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.http.routing.conftest import IPHONE, Api, start

if TYPE_CHECKING:
    from httpx2 import Response

T = "https://example.com/"
SECRET = "open sesame"


@pytest.fixture
def strict(scanlet_db: str, tmp_path: Path) -> Iterator[Api]:
    yield from start(scanlet_db, tmp_path, SCANLET_PASSWORD_LIMIT="3/minute")


def unlock(api: Api, path: str, password: str, ip: str = "203.0.113.7") -> Response:
    return api.client.post(
        path,
        data={"password": password},
        headers={"x-forwarded-for": ip, "user-agent": IPHONE},
        follow_redirects=False,
    )


def test_a_protected_code_asks_for_its_password_and_redirects_after_the_right_one(
    api: Api,
) -> None:
    code = api.code(slug="pw", target=T, password=SECRET)
    assert code["has_password"] is True
    assert "password" not in code
    assert SECRET not in str(code)
    form = api.scan("/pw")
    assert form.status_code == 200
    assert form.headers["content-type"].startswith("text/html")
    assert "type=password name=password" in form.text
    assert form.headers["cache-control"] == "private, max-age=0"
    wrong = unlock(api, "/pw", "sesame")
    assert wrong.status_code == 403
    assert "not right" in wrong.text
    right = unlock(api, "/q/pw", SECRET)
    assert (right.status_code, right.headers["location"]) == (302, T)
    # Only the scan that got through is recorded, when it got through.
    [scan] = api.scans("pw", expect=1)
    assert (scan["source"], scan["outcome"], scan["target"]) == ("qr", "password", T)
    assert api.stats("pw")["total"] == 1


def test_the_password_is_stored_as_an_argon2id_hash_and_never_shown(api: Api) -> None:
    api.code(slug="h", target=T, password=SECRET)
    storage = api.app.state.services.storage
    row = api.client.portal.call(storage.codes.get, "h")  # type: ignore[union-attr]
    assert row.password_hash.startswith("$argon2id$")
    assert SECRET not in row.password_hash
    events = []
    for _ in range(200):  # PostgreSQL: the log is read up to the cluster's oldest xid
        events = api.client.portal.call(storage.events.read_after, 0, 100)  # type: ignore[union-attr]
        if events:
            break
        time.sleep(0.05)
    [created] = [e for e in events if e.type == "code.created"]
    assert b'"has_password":true' in created.payload
    assert b"argon2" not in created.payload
    assert SECRET.encode() not in created.payload


def test_rules_and_query_forwarding_apply_after_the_password(api: Api) -> None:
    api.code(
        slug="r",
        target=T,
        password=SECRET,
        forward_query=True,
        rules=[{"when": {"os": "ios"}, "target": T + "ios"}],
    )
    right = unlock(api, "/r?utm=1", SECRET)
    assert right.headers["location"] == T + "ios?utm=1"


def test_wrong_attempts_are_rate_limited_per_address(strict: Api) -> None:
    api = strict
    api.code(slug="g", target=T, password=SECRET)
    for _ in range(3):
        assert unlock(api, "/g", "guess").status_code == 403
    limited = unlock(api, "/g", SECRET)
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    # Another address has its own budget.
    assert unlock(api, "/g", SECRET, ip="203.0.113.99").status_code == 302
    assert api.scans("g", expect=1)[0]["outcome"] == "password"


def test_password_is_changed_and_removed_with_patch(api: Api) -> None:
    api.code(slug="c", target=T)
    assert api.went("/c") == T
    assert api.patch("c", password=SECRET).json()["has_password"] is True
    assert api.scan("/c").status_code == 200
    assert api.patch("c", password="new one").status_code == 200
    assert unlock(api, "/c", SECRET).status_code == 403
    assert unlock(api, "/c", "new one").status_code == 302
    # Changing something else keeps the password.
    assert api.patch("c", title="t").json()["has_password"] is True
    assert api.patch("c", password=None).json()["has_password"] is False
    assert api.went("/c") == T


def test_a_fallback_needs_no_password(api: Api) -> None:
    api.code(slug="f", target=T, password=SECRET, fallback_url=T + "over")
    api.patch("f", enabled=False)
    assert api.went("/f") == T + "over"


def test_posts_to_codes_without_a_password_or_to_no_code_are_refused_unrecorded(
    api: Api,
) -> None:
    api.code(slug="open", target=T)
    assert unlock(api, "/open", "x").status_code == 405
    assert unlock(api, "/nothing", "x").status_code == 404
    # A path another route serves is that route's: its methods, not a code's password.
    for path, allow in (("/openapi.json", "GET, HEAD"), ("/livez", "GET, HEAD"), ("/api", "GET")):
        refused = unlock(api, path, "x")
        assert (refused.status_code, refused.headers["allow"]) == (405, allow), path
    orphans = api.client.get("/api/v1/orphan-scans", headers=api.headers).json()["items"]
    assert orphans == []
    assert api.scans("open") == []


@pytest.mark.parametrize("password", ["", "x" * 257, 42])
def test_a_bad_password_is_a_422_naming_it(api: Api, password: object) -> None:
    made = api.create(slug="bad", target=T, password=password)
    assert made.status_code == 422
    assert made.json()["errors"][0]["loc"] == ["body", "password"]


def test_a_huge_or_garbled_form_is_a_wrong_password(api: Api) -> None:
    api.code(slug="z", target=T, password=SECRET)
    huge = api.client.post(
        "/z",
        content=b"password=" + b"a" * 5000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 403
    garbled = api.client.post(
        "/z", content=b"\xff\xfe", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert garbled.status_code == 403


def test_scans_let_through_by_the_password_use_up_max_scans(api: Api) -> None:
    api.code(slug="m", target=T, password=SECRET, max_scans=1)
    assert unlock(api, "/m", SECRET).status_code == 302
    assert unlock(api, "/m", SECRET).status_code == 410
    assert api.client.get("/api/v1/codes/m", headers=api.headers).json()["scans"] == 1
