"""Shapes of a QR drawing as closed contours, in module units, y growing downwards.

A contour is a start point and segments: a point (a straight line to it) or six numbers (a
cubic Bezier: two controls and the end). Filled with the non-zero winding rule; outer
contours run clockwise on screen and holes the other way, so every vector format fills
them alike. The modules' outlines are traced (one contour per connected region, not one
square per module), so no reader shows hairline seams between touching modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = (
    "Contour",
    "Point",
    "Segment",
    "circle",
    "finder_contours",
    "polygon",
    "rectangle",
    "traced",
)

Point = tuple[float, float]
Segment = tuple[float, float] | tuple[float, float, float, float, float, float]
Contour = tuple[Point, tuple[Segment, ...]]

#: Control-point distance of a cubic Bezier quarter circle, as a fraction of the radius.
KAPPA = 0.5522847498


def polygon(points: Sequence[Point], radii: Sequence[float]) -> Contour:
    """The closed polygon through ``points``, each corner rounded by its radius (0: sharp).

    A radius must not exceed half of either edge at its corner.
    """
    count = len(points)
    starts: list[Point] = []
    ends: list[Point] = []
    for i, (x, y) in enumerate(points):
        px, py = points[i - 1]
        nx, ny = points[(i + 1) % count]
        r = radii[i]
        din, dout = _unit(x - px, y - py), _unit(nx - x, ny - y)
        starts.append((x - r * din[0], y - r * din[1]))
        ends.append((x + r * dout[0], y + r * dout[1]))
    segments: list[Segment] = []
    last = ends[0]
    for i in range(1, count + 1):
        j = i % count
        if starts[j] != last:  # no zero-length lines between touching arcs
            segments.append(starts[j])
        last = ends[j]
        if radii[j]:
            x, y = points[j]
            (sx, sy), (ex, ey) = starts[j], ends[j]
            segments.append(
                (
                    sx + KAPPA * (x - sx),
                    sy + KAPPA * (y - sy),
                    ex + KAPPA * (x - ex),
                    ey + KAPPA * (y - ey),
                    ex,
                    ey,
                )
            )
    start = ends[0]
    return start, tuple(segments)


def _unit(dx: float, dy: float) -> Point:
    length = (dx * dx + dy * dy) ** 0.5
    return (dx / length, dy / length) if length else (0.0, 0.0)


def rectangle(
    x: float, y: float, w: float, h: float, radius: float = 0.0, *, hole: bool = False
) -> Contour:
    """A rectangle, clockwise on screen (counter-clockwise when it is a ``hole``)."""
    points = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    if hole:
        points.reverse()
    return polygon(points, [radius] * 4)


def circle(cx: float, cy: float, r: float) -> Contour:
    """A circle of four cubic arcs, clockwise on screen."""
    k = KAPPA * r
    return (
        (cx + r, cy),
        (
            (cx + r, cy + k, cx + k, cy + r, cx, cy + r),
            (cx - k, cy + r, cx - r, cy + k, cx - r, cy),
            (cx - r, cy - k, cx - k, cy - r, cx, cy - r),
            (cx + k, cy - r, cx + r, cy - k, cx + r, cy),
        ),
    )


def traced(cells: Iterable[tuple[int, int]], dx: float, dy: float, radius: float) -> list[Contour]:
    """The outlines of the union of unit squares at ``cells`` ((row, column) pairs), moved by
    (dx, dy), with convex corners rounded by ``radius`` (0 for square corners).

    Each square contributes its edges clockwise; an edge shared by two squares would run both
    ways and is left out, so what remains are region boundaries with the region on the right.
    Where two regions touch only at a corner, the walk turns right first, keeping them apart.
    """
    dark = set(cells)
    outgoing: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def edge(a: tuple[int, int], b: tuple[int, int]) -> None:
        outgoing.setdefault(a, []).append(b)

    for r, c in dark:
        if (r - 1, c) not in dark:
            edge((c, r), (c + 1, r))
        if (r, c + 1) not in dark:
            edge((c + 1, r), (c + 1, r + 1))
        if (r + 1, c) not in dark:
            edge((c + 1, r + 1), (c, r + 1))
        if (r, c - 1) not in dark:
            edge((c, r + 1), (c, r))
    contours: list[Contour] = []
    for origin in sorted(outgoing):
        while outgoing.get(origin):
            corners = _walk(outgoing, origin)
            radii = [radius if convex else 0.0 for _, convex in corners]
            contours.append(polygon([(x + dx, y + dy) for (x, y), _ in corners], radii))
    return contours


def _walk(
    outgoing: dict[tuple[int, int], list[tuple[int, int]]], origin: tuple[int, int]
) -> list[tuple[tuple[int, int], bool]]:
    """Follow unused edges from ``origin`` round to its first edge again; the corners, each
    with True where convex. At a vertex with two ways on, the right turn is taken: each way
    in is paired with one way out, so the walk closes on the edge it started with."""
    first = outgoing[origin][0]
    path = [origin]
    previous, current = origin, first
    while True:
        choices = outgoing[current]
        following = choices[0]
        if len(choices) > 1:
            # Cross product of the incoming and outgoing directions in screen coordinates
            # (y down): positive for a right turn.
            din = (current[0] - previous[0], current[1] - previous[1])
            following = max(
                choices,
                key=lambda p: din[0] * (p[1] - current[1]) - din[1] * (p[0] - current[0]),
            )
        if current == origin and following == first:
            break
        choices.remove(following)
        path.append(current)
        previous, current = current, following
    outgoing[origin].remove(first)
    corners: list[tuple[tuple[int, int], bool]] = []
    count = len(path)
    for i, point in enumerate(path):
        before, after = path[i - 1], path[(i + 1) % count]
        din = (point[0] - before[0], point[1] - before[1])
        dout = (after[0] - point[0], after[1] - point[1])
        cross = din[0] * dout[1] - din[1] * dout[0]
        if cross:  # straight-through points are not corners
            corners.append((point, cross > 0))
    return corners


def finder_contours(modules: int, dx: float, dy: float, rounded: bool) -> list[Contour]:
    """The three finder patterns of a symbol ``modules`` wide: a 7x7 ring around a 3x3 eye."""
    far = modules - 7
    contours: list[Contour] = []
    for x, y in ((0, 0), (far, 0), (0, far)):
        left, top = x + dx, y + dy
        contours.append(rectangle(left, top, 7, 7, 1.5 if rounded else 0.0))
        contours.append(rectangle(left + 1, top + 1, 5, 5, 0.75 if rounded else 0.0, hole=True))
        contours.append(rectangle(left + 2, top + 2, 3, 3, 0.75 if rounded else 0.0))
    return contours


def is_finder(row: int, col: int, modules: int) -> bool:
    """True for the modules of the three 7x7 finder patterns."""
    far = modules - 7
    return (row < 7 and (col < 7 or col >= far)) or (row >= far and col < 7)
