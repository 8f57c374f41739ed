"""``GET /api/v1/codes?format=csv`` and ``POST /api/v1/codes/batch``."""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.cli import main
from scanlet.importing.scanlet_csv import COLUMNS, escape_cell, unescape_cell
from tests.http.conftest import MintKey
from tests.importing.server import ApiReader, settings_for


def _auth(mint_key: MintKey, scope: Scope = Scope.WRITE) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_key(scope)}"}


def _codes(n: int, prefix: str = "b") -> list[dict[str, Any]]:
    return [{"target": f"https://example.com/{i}", "slug": f"{prefix}{i}"} for i in range(n)]


def test_the_csv_lists_every_code_in_the_format_import_csv_reads(
    client: TestClient, mint_key: MintKey, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    headers = _auth(mint_key)
    bodies: list[dict[str, Any]] = [
        {
            "target": "https://example.com/a",
            "slug": "-dash",
            "title": "=HYPERLINK(1)",
            "tags": ["+x", "a|b"],
            "max_scans": 5,
            "valid_until": "2030-01-01T00:00:00Z",
        },
        {"target": "https://example.com/b", "slug": "plain", "redirect_status": 308},
        # Routing (#15) goes along: rules and split arms as JSON cells.
        {
            "target": "https://example.com/c",
            "slug": "routed",
            "fallback_url": "https://example.com/over",
            "forward_query": True,
            "rules": [
                {
                    "when": {"os": "ios", "query": {"utm": "=1"}},
                    "target": "https://example.com/ios",
                }
            ],
            "split": [
                {"target": "https://example.com/a", "weight": 30},
                {"target": "https://example.com/b", "weight": 70},
            ],
        },
    ]
    for body in bodies:
        created = client.post("/api/v1/codes", json=body, headers=headers)
        assert created.status_code == 201, created.text
    assert client.patch("/api/v1/codes/plain", json={"enabled": False}, headers=headers).is_success
    client.get("/-dash", follow_redirects=False)
    reply = client.get("/api/v1/codes?format=csv", headers=_auth(mint_key, Scope.READ))
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/csv; charset=utf-8"
    assert reply.headers["content-disposition"] == 'attachment; filename="codes.csv"'
    rows = list(csv.reader(io.StringIO(reply.text)))
    assert tuple(rows[0]) == COLUMNS
    by_slug = {unescape_cell(row[0]): dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]}
    assert set(by_slug) == {"-dash", "plain", "routed"}
    dash = by_slug["-dash"]
    # Nothing a spreadsheet would run: each such cell starts with an apostrophe.
    assert (dash["slug"], dash["title"], dash["tags"]) == ("'-dash", "'=HYPERLINK(1)", "'+x|a\\|b")
    assert (dash["max_scans"], dash["scans"], dash["enabled"]) == ("5", "1", "true")
    assert by_slug["plain"]["enabled"] == "false"
    assert by_slug["plain"]["redirect_status"] == "308"
    routed = by_slug["routed"]
    assert (routed["fallback_url"], routed["forward_query"]) == ("https://example.com/over", "true")
    assert routed["has_password"] == "false"
    assert '"os":"ios"' in routed["rules"]

    # The file goes back in through `scanlet import csv` and gives the same codes.
    path = tmp_path / "codes.csv"
    path.write_text(reply.text, encoding="utf-8")
    target = str(tmp_path / "copy.db")
    assert main(["migrate", "--db", target]) == 0
    assert main(["import", "csv", str(path), "--db", target]) == 0
    assert "codes: 3 created" in capsys.readouterr().out
    original = client.get("/api/v1/codes", headers=headers).json()["items"]
    copy = ApiReader(settings_for(target, tmp_path)).get("/api/v1/codes")["items"]

    def comparable(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in c.items() if k not in ("scans", "updated_at")} for c in items]

    assert comparable(copy) == comparable(original)


def test_the_csv_takes_the_listing_filters_and_refuses_an_unknown_format(
    client: TestClient, mint_key: MintKey
) -> None:
    headers = _auth(mint_key)
    for body in [
        {"target": "https://e.com/1", "slug": "t1", "tags": ["x"]},
        {"target": "https://e.com/2", "slug": "t2"},
    ]:
        assert client.post("/api/v1/codes", json=body, headers=headers).status_code == 201
    rows = client.get("/api/v1/codes?format=csv&tag=x", headers=headers).text.splitlines()
    assert len(rows) == 2
    assert rows[1].startswith("t1,")
    bad = client.get("/api/v1/codes?format=xml", headers=headers)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["loc"] == ["query", "format"]


@pytest.mark.parametrize("text", ["", "x", "=1", "'=1", "''=1", "'x", "-", " +a", "\t", "'"])
def test_a_cell_comes_back_as_it_went(text: str) -> None:
    assert unescape_cell(escape_cell(text)) == text


def test_a_batch_answers_each_item_on_its_own(client: TestClient, mint_key: MintKey) -> None:
    headers = _auth(mint_key)
    client.post(
        "/api/v1/codes", json={"target": "https://e.com/", "slug": "taken"}, headers=headers
    )
    items: list[Any] = [
        {"target": "https://example.com/ok", "slug": "ok", "tags": ["a"]},
        {"target": "javascript:alert(1)"},
        {"target": "https://example.com/t", "slug": "taken"},
        {"target": "https://example.com/x", "max_scans": "many"},
        {"target": "https://example.com/y", "valid_from": "0001-01-01T00:30:00+01:00"},
        {"target": "https://example.com/z", "colour": "red"},
        "not an object",
        {"target": "https://example.com/gen"},
        # A nested routing field the codes context refuses is located inside its item.
        {
            "target": "https://example.com/r",
            "rules": [
                {
                    "when": {"os": "ios", "schedule": {"tz": "Mars/Olympus"}},
                    "target": "https://e.com/",
                }
            ],
        },
    ]
    reply = client.post("/api/v1/codes/batch", json={"codes": items}, headers=headers)
    assert reply.status_code == 200
    results = reply.json()["results"]
    assert [r["index"] for r in results] == list(range(9))
    assert [r["status"] for r in results] == [201, 422, 409, 422, 422, 422, 422, 201, 422]
    assert results[0]["code"]["slug"] == "ok"
    assert results[0]["code"]["tags"] == ["a"]
    assert results[1]["problem"]["errors"][0]["loc"] == ["body", "codes", 1, "target"]
    assert results[2]["problem"]["errors"][0]["loc"] == ["body", "codes", 2, "slug"]
    assert results[3]["problem"]["errors"][0]["loc"] == ["body", "codes", 3, "max_scans"]
    assert results[4]["problem"]["errors"][0]["loc"] == ["body", "codes", 4, "valid_from"]
    assert results[5]["problem"]["errors"][0]["loc"][:3] == ["body", "codes", 5]
    assert results[8]["problem"]["errors"][0]["loc"] == [
        *("body", "codes", 8),
        *("rules", 0, "when", "schedule", "tz"),
    ]
    generated = results[7]["code"]["slug"]
    assert client.get(f"/api/v1/codes/{generated}", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"codes": []}, 422),
        ({"codes": _codes(1001)}, 422),
        ({"codes": "x"}, 422),
        ({"items": []}, 422),
        ([], 422),
    ],
)
def test_a_batch_that_is_not_one_is_refused_whole(
    client: TestClient, mint_key: MintKey, body: Any, status: int
) -> None:
    reply = client.post("/api/v1/codes/batch", json=body, headers=_auth(mint_key))
    assert reply.status_code == status
    assert reply.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/codes", headers=_auth(mint_key)).json()["items"] == []


def test_a_batch_needs_a_write_key(client: TestClient, mint_key: MintKey) -> None:
    body = {"codes": _codes(1)}
    assert client.post("/api/v1/codes/batch", json=body).status_code == 401
    read = _auth(mint_key, Scope.READ)
    assert client.post("/api/v1/codes/batch", json=body, headers=read).status_code == 403


def test_the_same_idempotency_key_replays_the_answer_instead_of_creating_again(
    client: TestClient, mint_key: MintKey
) -> None:
    headers = {**_auth(mint_key), "Idempotency-Key": "3f1c9a6e-batch-1"}
    body = {"codes": [{"target": "https://example.com/a"}, {"target": "https://example.com/b"}]}
    first = client.post("/api/v1/codes/batch", json=body, headers=headers)
    again = client.post("/api/v1/codes/batch", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    listed = client.get("/api/v1/codes", headers=headers).json()["items"]
    assert len(listed) == 2
    other = {"codes": [{"target": "https://example.com/c"}]}
    reused = client.post("/api/v1/codes/batch", json=other, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    # Keys are per API key: another client's same key is its own.
    elsewhere = {**_auth(mint_key), "Idempotency-Key": "3f1c9a6e-batch-1"}
    assert (
        "idempotent-replayed"
        not in client.post("/api/v1/codes/batch", json=other, headers=elsewhere).headers
    )
    bad = {**_auth(mint_key), "Idempotency-Key": "with space"}
    refused = client.post("/api/v1/codes/batch", json=other, headers=bad)
    assert refused.status_code == 422
    assert len(client.get("/api/v1/codes", headers=headers).json()["items"]) == 3


def test_concurrent_requests_with_one_key_create_the_codes_once(
    client: TestClient, mint_key: MintKey
) -> None:
    headers = {**_auth(mint_key), "Idempotency-Key": "race"}
    body = {"codes": [{"target": f"https://example.com/{i}"} for i in range(20)]}
    statuses: list[int] = []

    def send() -> None:
        statuses.append(client.post("/api/v1/codes/batch", json=body, headers=headers).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) <= {200, 409}
    assert 200 in statuses
    listed = client.get("/api/v1/codes?limit=1000", headers=headers).json()["items"]
    assert len(listed) == 20
