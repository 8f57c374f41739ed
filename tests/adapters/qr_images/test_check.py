"""The decode check: contrast, decoding, and refusals remembered by ETag."""

from __future__ import annotations

import pytest

from scanlet.adapters.qr_images import QrOptions, QrRenderer, Unscannable, _renderer, contrast_ratio
from tests.adapters.qr_images.helpers import PAYLOAD


def test_contrast_ratio_follows_wcag() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#000000", "transparent") == pytest.approx(21.0)


@pytest.mark.parametrize(
    ("options", "field", "fragment"),
    [
        (QrOptions(dark="#999999"), "dark", "too little contrast"),
        (QrOptions(dark="#ff9900", light="#ffffff"), "dark", "too little contrast"),
        (QrOptions(dark="#ffffff", light="#000000"), "dark", "not darker than light"),
        (QrOptions(finder="#cccccc"), "finder", "too little contrast"),
        (QrOptions(dark="#eeeeee", light="transparent"), "dark", "too little contrast"),
    ],
)
def test_too_little_contrast_is_refused_naming_the_colour(
    options: QrOptions, field: str, fragment: str
) -> None:
    with pytest.raises(Unscannable) as info:
        QrRenderer().render(PAYLOAD, options)
    assert info.value.field == field
    assert fragment in info.value.msg


def test_enough_contrast_in_colour_passes() -> None:
    rendered = QrRenderer().render(PAYLOAD, QrOptions(dark="#1a237e", light="#fff8e1"))
    assert rendered.checked


def test_a_drawing_that_does_not_decode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_renderer, "decodes_to", lambda image, payload: False)
    with pytest.raises(Unscannable) as info:
        QrRenderer().render(PAYLOAD, QrOptions(format="png", scale=2))
    assert info.value.field == "scale"
    assert "did not scan" in info.value.msg


def test_refusals_are_remembered_by_etag(monkeypatch: pytest.MonkeyPatch) -> None:
    renderer = QrRenderer()
    options = QrOptions(dark="#aaaaaa")
    with pytest.raises(Unscannable):
        renderer.render(PAYLOAD, options)
    drawn: list[object] = []
    monkeypatch.setattr(_renderer, "lay_out", lambda *args: drawn.append(args))
    with pytest.raises(Unscannable) as info:
        renderer.render(PAYLOAD, options)
    assert info.value.field == "dark"
    assert drawn == []
    stats = renderer.statistics()
    assert (stats.hits, stats.misses, stats.refusals) == (1, 1, 1)


def test_a_checked_image_is_checked_once_then_served_from_the_cache() -> None:
    renderer = QrRenderer()
    for _ in range(3):
        assert renderer.render(PAYLOAD, QrOptions(format="png")).checked
    stats = renderer.statistics()
    assert (stats.checks, stats.hits, stats.misses) == (1, 2, 1)


def test_an_unchecked_render_is_checked_when_a_check_is_asked() -> None:
    renderer = QrRenderer()
    assert not renderer.render(PAYLOAD, QrOptions(), check=False).checked
    assert renderer.render(PAYLOAD, QrOptions()).checked
    assert renderer.statistics().checks == 1
