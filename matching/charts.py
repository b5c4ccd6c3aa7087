"""Geometry for the dashboard's inline SVG map and bar charts. Plain numbers in, shapes out;
no Django import, so the templates only draw what these functions return.

The map uses an equirectangular projection with longitudes shrunk by cos(65°), the middle of
Norway's latitudes: simple, and close enough for dots per municipality.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LAT_MIN, LAT_MAX = 57.9, 71.2
LON_MIN, LON_MAX = 4.5, 31.2
LON_SHRINK = math.cos(math.radians(65))
MAP_WIDTH = 400
MAP_PADDING = 16
MAP_SCALE = (MAP_WIDTH - 2 * MAP_PADDING) / ((LON_MAX - LON_MIN) * LON_SHRINK)
MAP_HEIGHT = round(2 * MAP_PADDING + (LAT_MAX - LAT_MIN) * MAP_SCALE)
MAX_RADIUS = 14.0

CHART_WIDTH = 400
CHART_HEIGHT = 220
CHART_LEFT = 44
CHART_BOTTOM = 40
CHART_TOP = 12
CHART_RIGHT = 8
BASELINE = CHART_HEIGHT - CHART_BOTTOM
PLOT_HEIGHT = BASELINE - CHART_TOP


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Circle:
    x: float
    y: float
    r: float
    count: int


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: float | None
    label: object
    label_x: float


@dataclass(frozen=True)
class Tick:
    value: float
    y: float


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    ticks: list[Tick]
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = CHART_LEFT
    baseline: int = BASELINE
    top: int = CHART_TOP
    right: int = CHART_WIDTH - CHART_RIGHT

    @property
    def tick_x(self) -> int:
        return self.left - 4

    @property
    def month_y(self) -> int:
        return self.baseline + 14

    @property
    def middle(self) -> Point:
        """The middle of the plot area, where the axis titles are centred."""
        return Point((self.left + self.right) / 2, (self.top + self.baseline) / 2)


def project(lat: float, lon: float) -> Point:
    """A (lat, lon) as x, y in the map's viewBox; north is up."""
    x = MAP_PADDING + (lon - LON_MIN) * LON_SHRINK * MAP_SCALE
    y = MAP_PADDING + (LAT_MAX - lat) * MAP_SCALE
    return Point(round(x, 1), round(y, 1))


def circle_radius(count: int, largest: int) -> float:
    """Area, not radius, grows with the count, so a place with twice as many looks twice as big."""
    if count <= 0 or largest <= 0:
        return 0.0
    return round(max(2.0, MAX_RADIUS * math.sqrt(count / largest)), 1)


def circles(places: Iterable[tuple[float, float, int]], largest: int) -> list[Circle]:
    """One circle per (lat, lon, count) with a count above zero, largest first so small ones
    are drawn on top."""
    drawn = []
    for lat, lon, count in places:
        if count > 0:
            point = project(lat, lon)
            drawn.append(Circle(point.x, point.y, circle_radius(count, largest), count))
    return sorted(drawn, key=lambda circle: -circle.r)


@dataclass(frozen=True)
class NorwayMap:
    dots: list[Point]
    referrals: list[Circle]
    volunteers: list[Circle]
    width: int = MAP_WIDTH
    height: int = MAP_HEIGHT


def norway_map(
    outline: Iterable[tuple[float, float]], places: Sequence[tuple[float, float, int, int]]
) -> NorwayMap:
    """Faint dots for the outline; per place (lat, lon, waiting, volunteers) a circle for each
    count, on one scale so that the two kinds can be compared."""
    largest = max((max(waiting, volunteers) for *_, waiting, volunteers in places), default=0)
    return NorwayMap(
        dots=[project(lat, lon) for lat, lon in outline],
        referrals=circles(((lat, lon, n) for lat, lon, n, _ in places), largest),
        volunteers=circles(((lat, lon, n) for lat, lon, _, n in places), largest),
    )


def bar_chart(values: Sequence[float | None], labels: Sequence[object]) -> BarChart:
    """Vertical bars for values (None draws no bar) between the axes of the chart."""
    top_value = nice_ceiling(max((v for v in values if v), default=0))
    slot = (CHART_WIDTH - CHART_LEFT - CHART_RIGHT) / max(len(values), 1)
    bars = []
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        height = PLOT_HEIGHT * (value or 0) / top_value if top_value else 0
        x = CHART_LEFT + index * slot + slot * 0.15
        bars.append(
            Bar(
                x=round(x, 1),
                y=round(BASELINE - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                value=value,
                label=label,
                label_x=round(x + slot * 0.35, 1),
            )
        )
    return BarChart(bars=bars, ticks=_ticks(top_value))


def _ticks(top_value: float) -> list[Tick]:
    """Zero, the middle and the top of the axis; no middle below 2, where it would be a
    fraction of a match."""
    shares = (0, 0.5, 1) if top_value >= 2 else (0, 1) if top_value else (0,)
    return [
        Tick(round(top_value * share, 1), round(BASELINE - PLOT_HEIGHT * share, 1))
        for share in shares
    ]


def nice_ceiling(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten, at or above the value."""
    if value <= 0:
        return 0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)
