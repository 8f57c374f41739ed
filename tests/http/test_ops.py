"""Ops endpoints, problem+json errors everywhere, request ids and trace context."""

import base64
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

from openapi_spec_validator import validate
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.assembly import create_app
from scanlet.config import load_settings

PROBLEM = "application/problem+json"


def test_livez_answers_ok(client: TestClient) -> None:
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_database_and_actors(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["database"] == "ok"
    assert body["reasons"] == []


def test_metrics_are_prometheus_text_and_all_prefixed(client: TestClient) -> None:
    client.get("/livez")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    names = {
        line.split("{")[0].split(" ")[0]
        for line in response.text.splitlines()
        if line and not line.startswith("#")
    }
    assert names, "no samples exposed"
    assert all(name.startswith("scanlet_") for name in names), names
    assert (
        'scanlet_http_request_duration_seconds_count{method="GET",route="/livez",status="200"}'
        in response.text
    )
    assert "scanlet_build_info" in response.text


def test_writes_held_for_the_wal_are_on_metrics_where_the_database_holds_them(
    client: TestClient, backend: str
) -> None:
    text = client.get("/metrics").text
    samples = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line.startswith("scanlet_db_write_hold")
    }
    if backend == "sqlite":
        assert set(samples) == {
            "scanlet_db_write_holds_total",
            "scanlet_db_write_hold_seconds_total",
        }
        assert all(value >= 0 for value in samples.values())
    else:
        assert samples == {}


def test_request_durations_are_told_apart_between_one_and_five_milliseconds(
    client: TestClient,
) -> None:
    client.get("/livez")
    text = client.get("/metrics").text
    bounds = [
        float(line.split('le="')[1].split('"')[0])
        for line in text.splitlines()
        if line.startswith("scanlet_http_request_duration_seconds_bucket")
        and 'route="/livez"' in line
    ]
    # A redirect's p99 lives here: read from buckets 1.5 ms wide, 1.1 and 2.4 ms were one.
    assert [b for b in bounds if 0.001 <= b <= 0.005] == [
        0.001,
        0.0015,
        0.002,
        0.0025,
        0.003,
        0.004,
        0.005,
    ]


def test_unknown_api_paths_and_wrong_methods_are_problems(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here/at/all")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert missing.json()["status"] == 404
    wrong = client.post("/livez")
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == PROBLEM
    assert set(wrong.json()) >= {"type", "title", "status", "detail"}
    # POST /{slug} (a protected code's password form) must not swallow a route's 405.
    assert wrong.headers["allow"] == "GET, HEAD"


def test_unmatched_routes_are_labelled_unmatched_in_metrics(client: TestClient) -> None:
    client.get("/api/v1/secret-slug-like-path/deeper")
    text = client.get("/metrics").text
    assert 'route="unmatched"' in text
    assert "secret-slug-like-path" not in text


def test_every_response_carries_a_request_id_and_traceparent(client: TestClient) -> None:
    response = client.get("/livez")
    assert re.fullmatch(r"[0-9a-f]{16}", response.headers["x-request-id"])
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]", response.headers["traceparent"])
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_incoming_traceparent_continues_the_same_trace(client: TestClient) -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    response = client.get("/livez", headers={"traceparent": parent, "x-request-id": "abc-123"})
    trace_id = response.headers["traceparent"].split("-")[1]
    assert trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert response.headers["traceparent"].split("-")[2] != "00f067aa0ba902b7"
    assert response.headers["x-request-id"] == "abc-123"


def test_openapi_is_version_3_1_and_lists_every_route(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    for path in ("/livez", "/readyz", "/metrics", "/openapi.json", "/docs"):
        assert path in doc["paths"], path
    assert "ProblemBody" in doc["components"]["schemas"]


def test_openapi_document_passes_a_validator(client: TestClient) -> None:
    validate(client.get("/openapi.json").json())


def test_docs_page_is_self_contained_html(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/readyz" in response.text
    assert "http://" not in response.text.replace("http://qr.test", "")
    assert "<script src" not in response.text


def test_docs_page_has_a_strict_csp_that_allows_exactly_its_own_inline_style(
    client: TestClient,
) -> None:
    response = client.get("/docs")
    policy = {
        name: values
        for name, *values in (
            part.split() for part in response.headers["content-security-policy"].split(";")
        )
    }
    assert policy["default-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    # The page works under it: every inline style block is allowed by its hash, and there
    # is nothing else a policy would block (scripts, style attributes, external resources).
    blocks = re.findall(r"<style>(.*?)</style>", response.text, re.DOTALL)
    assert blocks
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'"
        for b in blocks
    ]
    assert policy["style-src"] == hashes
    assert "<script" not in response.text
    assert " style=" not in response.text
    assert not re.search(r"<(img|link|iframe|object|embed)\b", response.text)


def test_readyz_is_503_with_a_reason_when_an_actor_is_down(
    app: Starlette, client: TestClient
) -> None:
    scans = app.state.services.scans
    client.portal.call(scans.stop)  # type: ignore[union-attr]
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["actors"]["scans"] != "running"
    assert any("scans" in reason for reason in body["reasons"])


def test_a_scan_while_the_scans_actor_is_down_is_503_with_retry_after(
    app: Starlette, client: TestClient
) -> None:
    svc = app.state.services
    from scanlet.actors.codes.messages import CreateCode

    client.portal.call(svc.codes.create, CreateCode(target="https://e.com", slug="down"))  # type: ignore[union-attr]
    client.portal.call(svc.scans.stop)  # type: ignore[union-attr]
    response = client.get("/down", follow_redirects=False)
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"


def test_with_features_off_their_routes_are_absent(tmp_path: Path) -> None:
    settings = load_settings(
        {"SCANLET_DB": str(tmp_path / "core.db"), "SCANLET_FEATURES": "none"}, isatty=False
    )
    app = create_app(settings, registry=CollectorRegistry())
    with TestClient(app) as core:
        paths = core.get("/openapi.json").json()["paths"]
        assert "/api/v1/codes" in paths
        assert "/api/v1/stats" not in paths
        assert "/api/v1/webhooks" not in paths
        assert core.get("/readyz").json()["actors"].keys() == {"codes", "scans"}


def test_every_format_a_route_serves_is_a_documented_media_type(
    client: TestClient, mint_key: Callable[[Scope], str]
) -> None:
    # The QR image is SVG or PNG, raw scans JSON or CSV: a client generated from the
    # document (or a conformance checker) must find the media type it is answered with.
    headers = {"Authorization": f"Bearer {mint_key(Scope.ADMIN)}"}
    created = client.post("/api/v1/codes", json={"target": "https://e.com/"}, headers=headers)
    slug = created.json()["slug"]
    paths = client.get("/openapi.json").json()["paths"]
    for path, template, query in [
        (f"/api/v1/codes/{slug}/qr", "/api/v1/codes/{slug}/qr", "format=svg"),
        (f"/api/v1/codes/{slug}/qr", "/api/v1/codes/{slug}/qr", "format=png"),
        (f"/api/v1/codes/{slug}/scans", "/api/v1/codes/{slug}/scans", "format=json"),
        (f"/api/v1/codes/{slug}/scans", "/api/v1/codes/{slug}/scans", "format=csv"),
        ("/api/v1/orphan-scans", "/api/v1/orphan-scans", "format=csv"),
    ]:
        response = client.get(f"{path}?{query}", headers=headers)
        assert response.status_code == 200, response.text
        served = response.headers["content-type"].split(";")[0]
        documented = paths[template]["get"]["responses"]["200"]["content"]
        assert served in documented, (path, query, served, list(documented))


def test_every_link_names_an_operation_of_the_document_and_its_parameters(
    client: TestClient,
) -> None:
    doc = client.get("/openapi.json").json()
    operations = {
        op["operationId"]: {p["name"] for p in op.get("parameters", [])}
        for methods in doc["paths"].values()
        for op in methods.values()
    }
    links = {
        (path, method, name): link
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
        for response in op["responses"].values()
        for name, link in response.get("links", {}).items()
    }
    for key, link in links.items():
        assert link["operationId"] in operations, key
        assert set(link["parameters"]) <= operations[link["operationId"]], key
    code_links = {
        link["operationId"] for (path, _, _), link in links.items() if path == "/api/v1/codes"
    }
    assert {
        "get_codes_slug",
        "patch_codes_slug",
        "delete_codes_slug",
        "get_codes_slug_qr",
        "get_codes_slug_stats",
        "get_codes_slug_scans",
    } <= code_links
    hook_links = {
        link["operationId"] for (path, _, _), link in links.items() if path == "/api/v1/webhooks"
    }
    assert {"delete_webhooks_id", "get_webhooks_id_deliveries"} <= hook_links


def test_following_the_links_of_a_new_code_and_a_new_webhook_reaches_them(
    client: TestClient, mint_key: Callable[[Scope], str]
) -> None:
    headers = {"Authorization": f"Bearer {mint_key(Scope.ADMIN)}"}
    doc = client.get("/openapi.json").json()
    by_id = {
        op["operationId"]: (method.upper(), path)
        for path, methods in doc["paths"].items()
        for method, op in methods.items()
    }
    created = {
        "/api/v1/codes": client.post(
            "/api/v1/codes", json={"target": "https://e.com/"}, headers=headers
        ),
        "/api/v1/webhooks": client.post(
            "/api/v1/webhooks",
            # Only deletions, and nothing is deleted here: no delivery is ever attempted.
            json={"url": "https://93.184.215.14/hook", "events": ["code.deleted"]},
            headers=headers,
        ),
    }
    for source, response in created.items():
        assert response.status_code == 201, response.text
        links = doc["paths"][source]["post"]["responses"]["201"]["links"]
        for name, link in sorted(links.items(), key=lambda item: item[1]["operationId"]):
            method, path = by_id[link["operationId"]]
            if method != "GET":
                continue
            for param, expression in link["parameters"].items():
                pointer = expression.removeprefix("$response.body#/")
                path = path.replace("{" + param + "}", str(response.json()[pointer]))
            answer = client.request(method, path, headers=headers, follow_redirects=False)
            assert answer.status_code in (200, 302), (name, path, answer.status_code)
