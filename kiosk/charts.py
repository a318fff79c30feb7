"""Geometry of the dashboard's SVG charts, drawn on the server (templates/dashboard/_charts.html).

No JavaScript and no inline styles: the templates place shapes at the coordinates computed here
and colour them by CSS class; each chart comes with a text table for screen readers and print.
"""

from __future__ import annotations

from dataclasses import dataclass

from surveys.insights import Counts, ReasonPoint, TrendPoint, heat_level


@dataclass(frozen=True)
class Line:
    """A rate over time: the line, its 95 % band, and the axis marks."""

    width: int
    height: int
    #: "x,y x,y ..." of the shown rates; runs break where a point is below the minimum.
    runs: list[str]
    #: Polygons of the interval band, one per run.
    bands: list[str]
    dots: list[tuple[float, float]]
    #: (y, label) of the horizontal grid lines.
    grid: list[tuple[float, str]]
    #: (x, label) of a few points along the time axis.
    ticks: list[tuple[float, str]]


def _x(index: int, count: int, left: float, width: float) -> float:
    return round(left + (width * index / (count - 1) if count > 1 else width / 2), 1)


def _y(rate: float, top: float, height: float) -> float:
    return round(top + height * (1 - rate), 1)


def line(
    points: list[TrendPoint],
    *,
    width: int = 640,
    height: int = 200,
    label=lambda point: point.start.isoformat(),
    percent=lambda value: f"{value:.0%}",
) -> Line:
    """Return the geometry of a rate line with its band, runs broken at hidden points."""
    left, right, top, bottom = 40, 8, 8, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    runs, bands, dots = [], [], []
    current: list[tuple[float, TrendPoint]] = []

    def close():
        if current:
            runs.append(" ".join(f"{x},{_y(p.satisfaction.rate, top, plot_h)}" for x, p in current))
            upper = [f"{x},{_y(p.satisfaction.ci_high, top, plot_h)}" for x, p in current]
            lower = [f"{x},{_y(p.satisfaction.ci_low, top, plot_h)}" for x, p in reversed(current)]
            bands.append(" ".join(upper + lower))
            current.clear()

    for index, point in enumerate(points):
        x = _x(index, len(points), left, plot_w)
        if point.satisfaction.is_shown:
            current.append((x, point))
            dots.append((x, _y(point.satisfaction.rate, top, plot_h)))
        else:
            close()
    close()
    grid = [(_y(v, top, plot_h), percent(v)) for v in (0.0, 0.5, 1.0)]
    step = max(1, len(points) // 6)
    ticks = [
        (_x(i, len(points), left, plot_w), label(points[i])) for i in range(0, len(points), step)
    ]
    return Line(width, height, runs, bands, dots, grid, ticks)


def sparkline(points: list[TrendPoint], *, width: int = 96, height: int = 24) -> str:
    """Return the "x,y ..." of a small rate line (hidden points left out)."""
    shown = [(i, p) for i, p in enumerate(points) if p.satisfaction.is_shown]
    if not shown:
        return ""
    # Scaled to its own range (at least ten points wide), as sparklines are: it shows the
    # shape of the trend; the table beside it gives the level.
    rates = [p.satisfaction.rate for _i, p in shown]
    low = max(0.0, min(min(rates), max(rates) - 0.1))
    span = max(max(rates) - low, 0.1)
    return " ".join(
        f"{_x(i, len(points), 2, width - 4)},"
        f"{round(2 + (height - 4) * (1 - (p.satisfaction.rate - low) / span), 1)}"
        for i, p in shown
    )


@dataclass(frozen=True)
class HeatCell:
    x: int
    y: int
    weekday: int
    hour: int
    counts: Counts
    #: 0–1 shading by volume.
    level: float


def heatmap(
    grid: list[list[Counts]], *, cell: int = 22
) -> tuple[list[HeatCell], list[int], dict[tuple[int, int], HeatCell]]:
    """Return the cells of a weekday × hour grid, limited to the hours with any response, the
    hours shown, and the cells by (weekday, hour) for the text table."""
    hours = [h for h in range(24) if any(grid[d][h].n for d in range(7))] or list(range(7, 18))
    busiest = max((c.n for day in grid for c in day), default=0)
    cells = [
        HeatCell(
            40 + column * cell,
            18 + day * cell,
            day,
            hour,
            grid[day][hour],
            heat_level(grid[day][hour], busiest),
        )
        for day in range(7)
        for column, hour in enumerate(hours)
    ]
    return cells, hours, {(c.weekday, c.hour): c for c in cells}


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    person_y: float
    person_h: float
    process_y: float
    process_h: float
    point: ReasonPoint


def reason_bars(points: list[ReasonPoint], *, width: int = 640, height: int = 160) -> list[Bar]:
    """Return stacked bars: reasons charged to officers below, process reasons above."""
    left, top, bottom = 40, 8, 24
    plot_w, plot_h = width - left - 8, height - top - bottom
    tallest = max((p.person + p.process for p in points), default=0) or 1
    slot = plot_w / max(1, len(points))
    bars = []
    for index, point in enumerate(points):
        person_h = plot_h * point.person / tallest
        process_h = plot_h * point.process / tallest
        base = top + plot_h
        bars.append(
            Bar(
                round(left + index * slot + slot * 0.15, 1),
                round(max(1.0, slot * 0.7), 1),
                round(base - person_h, 1),
                round(person_h, 1),
                round(base - person_h - process_h, 1),
                round(process_h, 1),
                point,
            )
        )
    return bars
