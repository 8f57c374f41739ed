"""deploy/cluster/Caddyfile in front of two instances: scans keep being redirected while one
instance is killed, and the operations endpoints stay private.

Needs Debian's ``caddy`` (``.ci/run`` installs it): skipped without it on a developer's
machine, a failure under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cluster.instances import Cluster, wait_for
from tests.processes import free_port

CADDYFILE = Path(__file__).resolve().parents[2] / "deploy" / "cluster" / "Caddyfile"


@pytest.fixture
def proxy(cluster: Cluster, tmp_path: Path) -> Iterator[str]:
    """Caddy on a free port with the deploy Caddyfile, its upstreams the two instances."""
    if shutil.which("caddy") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("caddy is not installed (apt-get install caddy)", pytrace=False)
        pytest.skip("needs caddy (apt-get install caddy)")
    a, b, _ = cluster
    port = free_port()
    text = CADDYFILE.read_text()
    # The deployment as shipped, moved to this test's addresses: plain HTTP on a free port
    # (no certificate to get) and the instances' ports; no admin endpoint to collide on.
    for shipped, here in (
        ("qr.example.com {", f"http://127.0.0.1:{port} {{"),
        ("127.0.0.1:8001", a.base.removeprefix("http://")),
        ("127.0.0.1:8002", b.base.removeprefix("http://")),
    ):
        assert shipped in text
        text = text.replace(shipped, here)
    config = tmp_path / "Caddyfile"
    config.write_text("{\n\tadmin off\n}\n" + text)
    with (tmp_path / "caddy.log").open("wb") as log:
        caddy = subprocess.Popen(
            ["caddy", "run", "--config", str(config), "--adapter", "caddyfile"],
            stdout=log,
            stderr=log,
            env={**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(base), "caddy answers")
        yield base
    finally:
        caddy.terminate()
        caddy.wait(timeout=10)


def answers(base: str) -> bool:
    try:
        httpx.get(f"{base}/livez", timeout=1)
    except httpx.TransportError:
        return False
    return True


def test_scans_go_on_through_caddy_when_an_instance_is_killed(cluster: Cluster, proxy: str) -> None:
    a, _, _ = cluster
    token = a.key("write")
    created = httpx.post(
        f"{proxy}/api/v1/codes",
        headers={"Authorization": f"Bearer {token}"},
        json={"target": "https://example.com/menu", "slug": "menu"},
        timeout=5,
    )
    assert created.status_code == 201, created.text
    for path in ("/readyz", "/metrics", "/livez"):
        assert httpx.get(f"{proxy}{path}", timeout=5).status_code == 404

    def redirected() -> int:
        return httpx.get(f"{proxy}/menu", timeout=10).status_code

    # Both instances serve the code (B heard of it from A) before one of them dies.
    wait_for(lambda: all(redirected() == 302 for _ in range(10)), "both instances redirect")
    assert a.kill() == -9
    statuses = [redirected() for _ in range(200)]
    assert statuses == [302] * 200
