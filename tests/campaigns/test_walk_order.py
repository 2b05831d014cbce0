"""Walking order inside a grid cell: natural address order within buildings, a short tour between stops."""

import math

import numpy as np
import pytest

from server.campaigns.walk_order import (
    HouseholdAddress,
    natural_key,
    nearest_neighbour,
    path_length,
    shortest_walk,
    two_opt,
    walk_order,
)

LAT0, LON0 = 30.66, 104.06
M_LAT = 1 / 111_195.0
M_LON = M_LAT / math.cos(math.radians(LAT0))


def at(x_m, y_m):
    """(lon, lat) of a point x_m metres east and y_m metres north of the origin."""
    return LON0 + x_m * M_LON, LAT0 + y_m * M_LAT


def home(hid, x_m=None, y_m=None, **address):
    lon, lat = at(x_m, y_m) if x_m is not None else (None, None)
    return HouseholdAddress(id=hid, lon=lon, lat=lat, **address)


def test_numbers_sort_as_numbers_chinese_numerals_included():
    assert sorted(["10栋", "9栋", "2栋"], key=natural_key) == ["2栋", "9栋", "10栋"]
    assert sorted(["10单元", "三单元", "2单元"], key=natural_key) == ["2单元", "三单元", "10单元"]
    assert natural_key("十二栋") == natural_key("12栋")
    assert natural_key("３栋") == natural_key("3栋")  # full-width digits


def test_inside_a_building_by_unit_floor_room():
    spot = dict(x_m=0, y_m=0, street="幸福路", building="3栋")
    households = [
        home("u10-1-101", unit="10单元", floor=1, room="101室", **spot),
        home("u2-10-1001", unit="2单元", floor=10, room="1001室", **spot),
        home("u2-9-902", unit="2单元", floor=9, room="902室", **spot),
        home("u2-9-901", unit="2单元", floor=9, room="901室", **spot),
        home("u2-1-102", unit="二单元", room="102", **spot),  # floor read from the room number
    ]
    order = walk_order(households=households).household_ids
    assert order == ["u2-1-102", "u2-9-901", "u2-9-902", "u2-10-1001", "u10-1-101"]


def test_building_spellings_are_one_building():
    households = [
        home("a", 0, 0, building="3栋", room="201"),
        home("b", 500, 0, building="9栋", room="101"),
        home("c", 0, 0, building="3号楼", room="101"),
        home("d", 0, 0, building="第三栋", room="301"),
    ]
    assert walk_order(households=households).household_ids == ["c", "a", "d", "b"]


def test_buildings_without_coordinates_follow_street_and_number():
    households = [
        home("b10", street="幸福路", building="10栋", room="101"),
        home("b9", street="幸福路", building="9栋", room="101"),
        home("a1", street="安宁街", building="1栋", room="101"),
        home("b9-2", street="幸福路", building="9栋", unit="1单元", room="101"),
    ]
    order = walk_order(households=households).household_ids
    assert order.index("b9-2") < order.index("b10")
    assert order.index("b9") < order.index("b10")
    assert len(order) == 4 and set(order) == {"b10", "b9", "a1", "b9-2"}


def test_buildings_are_visited_along_the_street_from_the_start():
    # Buildings 1…6 along a street 80 m apart, listed shuffled; start at the east end.
    numbers = [4, 1, 6, 3, 5, 2]
    households = [home(f"b{n}", 80 * n, 0, street="幸福路", building=f"{n}栋") for n in numbers]
    east = walk_order(households=households, start=at(600, 0))
    assert east.household_ids == ["b6", "b5", "b4", "b3", "b2", "b1"]
    assert east.length_m == pytest.approx(120 + 5 * 80, rel=1e-3)

    west = walk_order(households=households)  # default: the stop nearest the south-west corner
    assert west.household_ids == ["b1", "b2", "b3", "b4", "b5", "b6"]
    assert west.length_m == pytest.approx(5 * 80, rel=1e-3)


def test_address_less_households_are_visited_where_they_lie():
    households = [
        home("east-1", 400, 0, building="2栋", room="101"),
        home("west-2", 0, 0, building="1栋", room="201"),
        home("middle", 200, 5),  # a village house without building number, between the two
        home("west-1", 0, 0, building="1栋", room="101"),
        home("far", 800, 0, street="幸福路"),
        home("nowhere"),  # neither address nor position: last
        home("east-2", 400, 0, building="2栋", room="201"),
    ]
    order = walk_order(households=households, start=at(-50, 0)).household_ids
    assert order == ["west-1", "west-2", "middle", "east-1", "east-2", "far", "nowhere"]


def test_2opt_is_never_longer_than_nearest_neighbour():
    for seed in range(5):
        xy = np.random.default_rng(seed).uniform(0, 400, (150, 2))
        dist = np.hypot(xy[:, 0, None] - xy[None, :, 0], xy[:, 1, None] - xy[None, :, 1])
        greedy = nearest_neighbour(dist, 0)
        tour = shortest_walk(xy, 0)
        assert sorted(tour) == list(range(150)) and tour[0] == 0
        assert path_length(xy, tour) <= path_length(xy, greedy)
        assert path_length(xy, tour) < 0.97 * path_length(xy, greedy)


def _crosses(p1, p2, q1, q2):
    def side(a, b, c):
        return np.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))

    return side(p1, p2, q1) * side(p1, p2, q2) < 0 and side(q1, q2, p1) * side(q1, q2, p2) < 0


def test_2opt_walk_has_no_crossing_edges():
    xy = np.random.default_rng(11).uniform(0, 300, (80, 2))
    pts = xy[shortest_walk(xy, 0)]
    edges = list(zip(pts[:-1], pts[1:], strict=True))
    for i, (a, b) in enumerate(edges):
        for c, d in edges[i + 2:]:
            assert not _crosses(a, b, c, d)


def test_2opt_untangles_a_scrambled_circle():
    angle = np.linspace(0, 2 * np.pi, 30, endpoint=False)
    xy = np.column_stack((np.cos(angle), np.sin(angle))) * 100
    dist = np.hypot(xy[:, 0, None] - xy[None, :, 0], xy[:, 1, None] - xy[None, :, 1])
    scrambled = [0, *np.random.default_rng(3).permutation(np.arange(1, 30)).tolist()]
    tour = two_opt(dist, scrambled)
    assert tour in (list(range(30)), [0, *range(29, 0, -1)])


def test_800_households_of_a_cell():
    rng = np.random.default_rng(5)
    households = []
    for i in range(800):
        x, y = rng.uniform(0, 500, 2)
        if i % 3:
            households.append(home(i, x, y))
        else:  # a third live in 40 buildings
            b = i % 40
            households.append(home(i, 12.5 * b, 250, building=f"{b}栋", floor=int(rng.integers(1, 7)),
                                   room=str(int(rng.integers(1, 4)))))
    result = walk_order(households=households)
    assert sorted(result.household_ids) == list(range(800))
    # Each building is walked in one go.
    buildings = [households[i].building for i in result.household_ids if households[i].building]
    visits = [b for k, b in enumerate(buildings) if k == 0 or buildings[k - 1] != b]
    assert len(visits) == 40
