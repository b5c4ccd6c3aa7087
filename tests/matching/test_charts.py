"""The dashboard's map and chart geometry: plain numbers in, shapes out, no database."""

import math

import pytest

from matching import charts

OSLO = (59.91, 10.75)
BERGEN = (60.39, 5.32)


def test_oslo_is_drawn_south_east_of_bergen():
    oslo, bergen = charts.project(*OSLO), charts.project(*BERGEN)
    assert oslo.x > bergen.x and oslo.y > bergen.y


def test_norways_corners_fall_inside_the_view_box():
    for lat, lon in [OSLO, (57.9, 4.5), (71.2, 31.2), (69.65, 18.96), (58.0, 7.99)]:
        point = charts.project(lat, lon)
        assert 0 <= point.x <= charts.MAP_WIDTH and 0 <= point.y <= charts.MAP_HEIGHT


def test_circle_area_grows_in_proportion_to_the_count():
    small, large = charts.circle_radius(1, largest=4), charts.circle_radius(4, largest=4)
    assert large == charts.MAX_RADIUS
    assert math.isclose((large / small) ** 2, 4, rel_tol=0.05)


def test_empty_data_draws_nothing():
    assert charts.circles([], largest=0) == []
    assert charts.circles([(*OSLO, 0)], largest=3) == []
    drawn = charts.norway_map([], [])
    assert (drawn.dots, drawn.referrals, drawn.volunteers) == ([], [], [])
    assert charts.bar_chart([], []).bars == []


def test_the_map_puts_both_counts_on_one_scale():
    drawn = charts.norway_map([OSLO, BERGEN], [(*OSLO, 4, 1), (*BERGEN, 0, 2)])
    assert len(drawn.dots) == 2
    assert [c.count for c in drawn.referrals] == [4]
    assert [c.count for c in drawn.volunteers] == [2, 1]
    assert drawn.referrals[0].r > drawn.volunteers[0].r > drawn.volunteers[1].r


def test_bars_grow_with_their_value_and_stay_above_the_baseline():
    chart = charts.bar_chart([0, 5, None, 10], ["a", "b", "c", "d"])
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == heights[2] == 0 and 0 < heights[1] < heights[3]
    assert all(bar.y + bar.height == chart.baseline for bar in chart.bars)
    assert chart.ticks[-1].value == 10 and chart.ticks[-1].y == chart.top


def test_the_axis_top_is_a_round_number_at_or_above_the_largest_value():
    assert [charts.nice_ceiling(v) for v in (0, 1, 3, 7, 12, 51)] == [0, 1, 5, 10, 20, 100]


def test_a_frame_holds_its_points_with_a_margin_and_a_town_still_shows_its_neighbours():
    frame = charts.frame_around([OSLO, BERGEN])
    assert frame.lat_min < OSLO[0] and frame.lat_max > BERGEN[0]
    assert frame.lon_min < BERGEN[1] and frame.lon_max > OSLO[1]
    town = charts.frame_around([OSLO])
    assert (town.lat_max - town.lat_min) * charts.KM_PER_DEGREE_LAT == pytest.approx(80)
    assert charts.frame_around([]) == charts.NORWAY


def test_a_catchment_fills_the_map_and_places_beyond_its_view_are_left_out():
    frame = charts.frame_around([OSLO, (59.74, 10.2)])  # Oslo and Drammen
    oslo = charts.project(*OSLO, frame)
    assert charts.in_view(oslo) and 0 < oslo.x < charts.MAP_WIDTH
    drawn = charts.norway_map([OSLO, BERGEN], [(*OSLO, 1, 2), (*BERGEN, 3, 0)], frame, [OSLO])
    assert drawn.dots == [] and drawn.served == [oslo]
    assert [c.count for c in drawn.referrals] == [1]
    zoomed = abs(charts.project(59.74, 10.2, frame).x - oslo.x)
    national = abs(charts.project(59.74, 10.2).x - charts.project(*OSLO).x)
    assert zoomed > 5 * national
