"""Traced outlines cover exactly the modules they trace."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scanlet.adapters.qr_images._geometry import Contour, circle, rectangle, traced


def signed_area(contour: Contour) -> float:
    """Shoelace area of the contour's corner points (exact for straight-edged contours);
    positive for clockwise on screen (y down)."""
    (x0, y0), segments = contour
    points = [(x0, y0)] + [(s[-2], s[-1]) for s in segments]
    return (
        sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(points, points[1:] + points[:1], strict=True))
        / 2
    )


cells = st.sets(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=40)


@given(cells)
def test_the_outline_area_is_the_number_of_modules(dark: set[tuple[int, int]]) -> None:
    contours = traced(dark, 0, 0, 0.0)
    assert sum(signed_area(c) for c in contours) == len(dark)
    # Every corner lies on the grid: no diagonal edges, nothing stray.
    for (x, y), segments in contours:
        for point in [(x, y), *segments]:
            assert all(v == int(v) for v in point)


def test_a_ring_has_a_hole_that_runs_the_other_way() -> None:
    ring = {(r, c) for r in range(3) for c in range(3)} - {(1, 1)}
    areas = sorted(signed_area(c) for c in traced(ring, 0, 0, 0.0))
    assert areas == [-1.0, 9.0]


def test_modules_touching_at_a_corner_stay_two_outlines() -> None:
    assert len(traced({(0, 0), (1, 1)}, 0, 0, 0.5)) == 2


def test_shapes_run_clockwise_and_holes_the_other_way() -> None:
    assert signed_area(rectangle(0, 0, 2, 3)) == 6
    assert signed_area(rectangle(0, 0, 2, 3, hole=True)) == -6
    assert signed_area(circle(0, 0, 1)) > 0
