"""The app of the routing tests (analytics on, either backend, a fixed clock), for codes of
every kind; ``compact_api`` with SCANLET_QR_COMPACT on."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from tests.http.routing.conftest import Api, start


@pytest.fixture
def api(scanlet_db: str, tmp_path: Path) -> Iterator[Api]:
    yield from start(scanlet_db, tmp_path)


@pytest.fixture
def compact_api(scanlet_db: str, tmp_path: Path) -> Iterator[Api]:
    yield from start(scanlet_db, tmp_path, SCANLET_QR_COMPACT="true")


def decoded_png(api: Api, slug: str) -> list[str]:
    """What zxing-cpp reads in the code's PNG (which the server checked before sending)."""
    reply = api.client.get(f"/api/v1/codes/{slug}/qr?format=png&scale=4", headers=api.headers)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "image/png"
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(reply.content)))]
