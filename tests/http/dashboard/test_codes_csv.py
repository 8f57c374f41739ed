"""The dashboard's "Download CSV" button: the API's codes CSV, with the list's filters."""

from __future__ import annotations

import csv
import io

from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.importing.scanlet_csv import COLUMNS
from tests.http.dashboard.conftest import SignIn, api_create


def test_the_button_downloads_the_codes_the_list_shows(client: TestClient, sign_in: SignIn) -> None:
    write = sign_in(Scope.WRITE)
    api_create(client, write, target="https://example.com/a", slug="alpha", tags=["print"])
    api_create(client, write, target="https://example.com/b", slug="beta")
    sign_in(Scope.READ)  # reading is enough to download
    page = client.get("/dashboard/codes", params={"tag": "print"}).text
    assert 'href="/dashboard/codes.csv?tag=print" download>Download CSV</a>' in page
    reply = client.get("/dashboard/codes.csv?tag=print")
    assert reply.status_code == 200
    assert reply.headers["content-disposition"] == 'attachment; filename="codes.csv"'
    rows = list(csv.reader(io.StringIO(reply.text)))
    assert tuple(rows[0]) == COLUMNS
    assert [row[0] for row in rows[1:]] == ["alpha"]
    everything = list(csv.reader(io.StringIO(client.get("/dashboard/codes.csv").text)))
    assert [row[0] for row in everything[1:]] == ["beta", "alpha"]


def test_the_download_needs_a_session(client: TestClient) -> None:
    reply = client.get("/dashboard/codes.csv", follow_redirects=False)
    assert reply.status_code in (302, 303)
    assert "/dashboard/sign-in" in reply.headers["location"]
