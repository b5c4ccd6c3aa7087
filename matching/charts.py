"""Geometry for the dashboard's inline SVG map and bar charts. Plain numbers in, shapes out;
no Django import, so the templates only draw what these functions return.

The map shows a ``Frame`` (all of Norway, or the part a coordinator's crisis centres serve) in an
equirectangular projection with longitudes shrunk by the cosine of the frame's middle latitude:
simple, and close enough for dots per municipality. The view box is the same size for every
frame; a frame of another shape is centred and shows a little more on two sides.
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MAP_WIDTH = 400
MAP_PADDING = 16
MAX_RADIUS = 14.0
KM_PER_DEGREE_LAT = 111.2


@dataclass(frozen=True)
class Frame:
    """The box of latitudes and longitudes the map shows."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    @property
    def shrink(self) -> float:
        return math.cos(math.radians((self.lat_min + self.lat_max) / 2))

    @property
    def middle(self) -> tuple[float, float]:
        return (self.lat_min + self.lat_max) / 2, (self.lon_min + self.lon_max) / 2


NORWAY = Frame(lat_min=57.9, lat_max=71.2, lon_min=4.5, lon_max=31.2)
LAT_MIN, LAT_MAX, LON_MIN, LON_MAX = NORWAY.lat_min, NORWAY.lat_max, NORWAY.lon_min, NORWAY.lon_max
MAP_HEIGHT = round(
    2 * MAP_PADDING
    + (LAT_MAX - LAT_MIN) * (MAP_WIDTH - 2 * MAP_PADDING) / ((LON_MAX - LON_MIN) * NORWAY.shrink)
)


def frame_around(
    points: Iterable[tuple[float, float]], margin_km: float = 15, min_span_km: float = 80
) -> Frame:
    """The box around ``points`` with ``margin_km`` on every side, at least ``min_span_km``
    across each way (a catchment of one town still shows its neighbours). All of Norway
    without points."""
    points = list(points)
    if not points:
        return NORWAY
    lats, lons = [lat for lat, _ in points], [lon for _, lon in points]
    middle_lat = (min(lats) + max(lats)) / 2
    km_per_degree_lon = KM_PER_DEGREE_LAT * math.cos(math.radians(middle_lat))
    lat_min, lat_max = _widened(min(lats), max(lats), margin_km, min_span_km, KM_PER_DEGREE_LAT)
    lon_min, lon_max = _widened(min(lons), max(lons), margin_km, min_span_km, km_per_degree_lon)
    return Frame(lat_min, lat_max, lon_min, lon_max)


def _widened(low: float, high: float, margin_km: float, min_span_km: float, km_per_degree: float):
    margin = margin_km / km_per_degree
    missing = max(0.0, min_span_km / km_per_degree - (high - low) - 2 * margin) / 2
    return low - margin - missing, high + margin + missing


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


def project(lat: float, lon: float, frame: Frame = NORWAY) -> Point:
    """A (lat, lon) as x, y in the map's viewBox, with ``frame`` fitted and centred; north is up."""
    shrink = frame.shrink
    scale = min(
        (MAP_WIDTH - 2 * MAP_PADDING) / ((frame.lon_max - frame.lon_min) * shrink),
        (MAP_HEIGHT - 2 * MAP_PADDING) / (frame.lat_max - frame.lat_min),
    )
    middle_lat, middle_lon = frame.middle
    x = MAP_WIDTH / 2 + (lon - middle_lon) * shrink * scale
    y = MAP_HEIGHT / 2 - (lat - middle_lat) * scale
    return Point(round(x, 1), round(y, 1))


def in_view(point: Point, reach: float = 0) -> bool:
    """Whether anything of a shape ``reach`` wide around ``point`` shows in the view box."""
    return -reach <= point.x <= MAP_WIDTH + reach and -reach <= point.y <= MAP_HEIGHT + reach


def circle_radius(count: int, largest: int) -> float:
    """Area, not radius, grows with the count, so a place with twice as many looks twice as big."""
    if count <= 0 or largest <= 0:
        return 0.0
    return round(max(2.0, MAX_RADIUS * math.sqrt(count / largest)), 1)


def circles(
    places: Iterable[tuple[float, float, int]], largest: int, frame: Frame = NORWAY
) -> list[Circle]:
    """One circle per (lat, lon, count) with a count above zero that shows in the frame,
    largest first so small ones are drawn on top."""
    drawn = []
    for lat, lon, count in places:
        point = project(lat, lon, frame)
        if count > 0 and in_view(point, MAX_RADIUS):
            drawn.append(Circle(point.x, point.y, circle_radius(count, largest), count))
    return sorted(drawn, key=lambda circle: -circle.r)


@dataclass(frozen=True)
class NorwayMap:
    dots: list[Point]
    referrals: list[Circle]
    volunteers: list[Circle]
    served: list[Point] = field(default_factory=list)
    width: int = MAP_WIDTH
    height: int = MAP_HEIGHT


def norway_map(
    outline: Iterable[tuple[float, float]],
    places: Sequence[tuple[float, float, int, int]],
    frame: Frame = NORWAY,
    served: Iterable[tuple[float, float]] = (),
) -> NorwayMap:
    """Faint dots for the outline (darker for the ``served`` municipalities); per place (lat,
    lon, waiting, volunteers) a circle for each count, on one scale so that the two kinds can be
    compared. Only what shows in ``frame``."""
    largest = max((max(waiting, volunteers) for *_, waiting, volunteers in places), default=0)
    served = set(served)

    def dots(points) -> list[Point]:
        projected = (project(lat, lon, frame) for lat, lon in points)
        return [point for point in projected if in_view(point)]

    return NorwayMap(
        dots=dots(point for point in outline if point not in served),
        served=dots(sorted(served)),
        referrals=circles(((lat, lon, n) for lat, lon, n, _ in places), largest, frame),
        volunteers=circles(((lat, lon, n) for lat, lon, _, n in places), largest, frame),
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
