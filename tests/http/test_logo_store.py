"""The codes actor's SetLogo command and the StoredLogos adapter, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import msgspec
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from scanlet.actors.access.keys import Scope
from scanlet.actors.codes.code import Code
from scanlet.actors.codes.errors import CodeNotFound, InvalidField
from scanlet.actors.events import CodeUpdated, log_entry
from scanlet.adapters.qr_images import Logo, _stored, load_logo
from scanlet.ids import new_event_id
from scanlet.storage.records import StoredLogo

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4">'
    b'<circle cx="2" cy="2" r="2" fill="#%s"/></svg>'
)


def logo(colour: str = "1565c0") -> StoredLogo:
    return load_logo(SVG % colour.encode(), "image/svg+xml").stored()


@pytest.fixture
def slug(client: TestClient, mint_key: Callable[[Scope], str]) -> str:
    headers = {"Authorization": f"Bearer {mint_key(Scope.WRITE)}"}
    made = client.post(
        "/api/v1/codes", json={"target": "https://e.com", "slug": "menu"}, headers=headers
    )
    assert made.status_code == 201
    return "menu"


def test_the_same_logo_twice_is_one_change(app: Starlette, client: TestClient, slug: str) -> None:
    codes = app.state.services.codes
    call = client.portal.call  # type: ignore[union-attr]
    first = call(codes.set_logo, slug, logo())
    again = call(codes.set_logo, slug, logo())
    assert first.logo == again.logo == logo().digest
    assert again.updated_at == first.updated_at
    events = call(partial(app.state.services.storage.events.code_history, slug, limit=10))
    assert [event.type for event in events].count("code.updated") == 1


@pytest.mark.parametrize(
    ("stored", "reason"),
    [
        (StoredLogo("image/gif", "0" * 32, b"GIF89a"), "must be image/png"),
        (StoredLogo("image/png", "0" * 32, b""), "1 byte to 256 KiB"),
        (StoredLogo("image/png", "0" * 32, b"x" * (256 * 1024 + 1)), "1 byte to 256 KiB"),
        (StoredLogo("image/png", "../../etc", b"x"), "digest"),
    ],
)
def test_the_actor_refuses_what_no_entrance_may_store(
    app: Starlette, client: TestClient, slug: str, stored: StoredLogo, reason: str
) -> None:
    codes = app.state.services.codes
    with pytest.raises(InvalidField) as refused:
        client.portal.call(codes.set_logo, slug, stored)  # type: ignore[union-attr]
    assert refused.value.field == "logo"
    assert reason in refused.value.msg
    with pytest.raises(CodeNotFound):
        client.portal.call(codes.set_logo, "nothing", logo())  # type: ignore[union-attr]
    # The actor carries on after refusals.
    assert client.portal.call(codes.set_logo, slug, logo()).logo  # type: ignore[union-attr]


def test_stored_logos_are_checked_once_per_hash_and_follow_other_instances(
    app: Starlette, client: TestClient, slug: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = app.state.services
    call = client.portal.call  # type: ignore[union-attr]
    loads: list[bytes] = []

    def counting(data: bytes, media_type: str) -> Logo:
        loads.append(data)
        return load_logo(data, media_type)

    monkeypatch.setattr(_stored, "load_logo", counting)
    call(svc.codes.set_logo, slug, logo())
    assert call(svc.logos.logo_for, slug).digest == logo().digest
    assert call(svc.logos.logo_for, slug).digest == logo().digest
    assert len(loads) == 1

    def written_elsewhere(stored: StoredLogo | None) -> None:
        """Another instance changes the logo straight in the shared database."""
        code = Code.from_row(call(svc.storage.codes.get, slug))
        now = datetime.now(UTC)
        changed = msgspec.structs.replace(code, logo=stored.digest if stored else None)
        event = CodeUpdated(
            id=new_event_id(), occurred_at=now, code=changed.state(), changed=("logo",)
        )
        call(svc.storage.codes.set_logo, slug, stored, now, log_entry(event, slug), now)

    other = logo("2e7d32")
    written_elsewhere(other)
    assert call(svc.logos.logo_for, slug).digest == other.digest
    assert len(loads) == 2
    written_elsewhere(None)
    assert call(svc.logos.logo_for, slug) is None
    written_elsewhere(other)
    assert call(svc.logos.logo_for, slug).digest == other.digest
    assert len(loads) == 2  # known by its hash: not checked again
