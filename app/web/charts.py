"""Geometry of the server-rendered SVG charts (pure): sparklines and the weekly bar chart.

Templates draw the shapes; this module only computes coordinates, so charts need no
JavaScript and no inline styles (colours come from classes in site.css).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from app.browse.types import WeekPoint


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    line: str  # "x,y x,y ..." for <polyline points>
    area: str  # closed polygon under the line
    last_x: float
    last_y: float
    maximum: int


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def sparkline(
    values: Sequence[int | float], *, width: int = 120, height: int = 28, pad: float = 2.0
) -> Sparkline:
    vals = [max(0.0, float(v)) for v in values] or [0.0]
    top = max(vals) or 1.0
    step = (width - 2 * pad) / max(len(vals) - 1, 1)
    pts = [(pad + i * step, height - pad - (v / top) * (height - 2 * pad)) for i, v in enumerate(vals)]
    if len(pts) == 1:
        pts.append((width - pad, pts[0][1]))
    line = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in pts)
    area = f"{_fmt(pts[0][0])},{_fmt(height - pad)} {line} {_fmt(pts[-1][0])},{_fmt(height - pad)}"
    return Sparkline(width, height, line, area, pts[-1][0], pts[-1][1], int(max(vals)))


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    label: str  # e.g. "Week of 3 Nov 2026: 12 papers"
    above_baseline: bool


@dataclass(frozen=True)
class WeekChart:
    width: int
    height: int
    bars: list[Bar]
    baseline: str  # polyline points ("" when there is no baseline yet)
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str]]
    plot_left: float
    plot_right: float
    plot_bottom: float


def nice_step(top: float, ticks: int = 4) -> int:
    """A round tick step (1, 2, 5, 10, 20, ...) giving about `ticks` ticks up to `top`."""
    raw = max(top, 1.0) / ticks
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if mult * power >= raw and float(mult * power).is_integer():
            return max(1, int(mult * power))
    return max(1, int(10 * power))


def week_chart(points: Sequence[WeekPoint], *, width: int = 720, height: int = 240) -> WeekChart:
    left, right, top_pad, bottom = 36.0, width - 8.0, 10.0, height - 26.0
    peak = max([p.count for p in points] + [p.baseline or 0 for p in points] + [1])
    step = nice_step(peak)
    y_max = step * math.ceil(peak / step)
    span = bottom - top_pad

    def y_of(value: float) -> float:
        return bottom - (value / y_max) * span

    n = max(len(points), 1)
    slot = (right - left) / n
    bars, line = [], []
    for i, p in enumerate(points):
        x = left + i * slot
        y = y_of(p.count)
        label = f"Week of {p.start.day} {p.start:%b %Y}: {p.count} paper{'s' if p.count != 1 else ''}"
        if p.baseline is not None:
            label += f" (baseline {p.baseline:.1f})"
            line.append(f"{_fmt(x + slot / 2)},{_fmt(y_of(p.baseline))}")
        above = p.baseline is not None and p.count > p.baseline
        bars.append(Bar(x + slot * 0.15, y, slot * 0.7, bottom - y, p.count, label, above))
    ticks = [(y_of(v), str(v)) for v in range(0, int(y_max) + 1, step)]
    every = max(1, math.ceil(n / 6))
    x_labels = [
        (left + i * slot + slot / 2, f"{p.start.day} {p.start:%b}")
        for i, p in enumerate(points)
        if i % every == 0
    ]
    return WeekChart(width, height, bars, " ".join(line), ticks, x_labels, left, right, bottom)
