"""A grid cell's households in walking order (入户顺序), for a worker's list and map.

Pure algorithm, no Django. The walk goes building by building; inside a building by unit, floor and room in natural
order ("2单元" before "10单元", "三栋" = "3栋" = "3号楼"). Buildings and households without a usable address (no
building) are *stops*; the stops are visited along a short open path from the start point: nearest-neighbour tour
improved by 2-opt, vectorised with numpy (every candidate exchange of two edges is scored in one array operation).

Start point: the `start` given (the cell's entry point, the worker's position); otherwise the stop nearest the
south-west corner of the households' bounding box. Households without coordinates are placed with their building;
buildings without any coordinates come after the walk in street/building order, and address-less households
without coordinates last, in the order given.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
NEIGHBOURS = 10  # 2-opt first tries exchanges creating an edge to one of a stop's nearest stops, then all of them
MOVES_PER_PASS = 64  # non-overlapping improving exchanges applied per vectorised pass

_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER = re.compile(f"[{''.join(_CN_DIGITS)}{''.join(_CN_UNITS)}]+")
_SUFFIX = {
    "building": re.compile(r"(号楼|栋楼|栋|幢|楼|号|座)$"),
    "unit": re.compile(r"(单元|门)$"),
    "room": re.compile(r"(室|号|房|户)$"),
}


@dataclass(frozen=True)
class HouseholdAddress:
    """A household to visit: position (lon, lat in WGS-84 degrees, None when not geocoded) and address parts as
    written in the register, e.g. street "幸福路", building "3栋", unit "2单元", floor 5, room "501室"."""

    id: Hashable
    lon: float | None
    lat: float | None
    street: str = ""
    building: str = ""
    unit: str = ""
    floor: int | None = None
    room: str = ""


@dataclass(frozen=True)
class WalkOrder:
    """`household_ids` in visiting order; `length_m` = walk from the start point through the stops (a building
    counts once, at the centre of its households), straight lines, stairs not counted."""

    household_ids: list[Hashable]
    length_m: float


def walk_order(*, households: Sequence[HouseholdAddress], start: tuple[float, float] | None = None) -> WalkOrder:
    """Order a cell's households for walking: buildings and address-less households in a short tour from `start`
    ((lon, lat); default: the stop nearest the south-west corner), each building by unit, floor and room."""
    buildings: dict[tuple, list[int]] = {}
    loose: list[int] = []  # households without a building
    for i, h in enumerate(households):
        building = _clean(h.building, "building")
        if building:
            buildings.setdefault((natural_key(_clean(h.street)), natural_key(building)), []).append(i)
        else:
            loose.append(i)
    known = [(h.lon, h.lat) for h in households if h.lon is not None and h.lat is not None]
    anchor = [start] if start is not None else []
    if not known and not anchor:
        return WalkOrder(household_ids=_unplaced(households, list(buildings.items()), loose), length_m=0.0)
    project = _projection(np.array(known + anchor, dtype=float))

    stops, where = [], []  # per stop: its households in visiting order; its position in metres
    unplaced_buildings, unplaced = [], []  # no coordinates at all: after the walk
    for key, members in buildings.items():
        placed = [(households[i].lon, households[i].lat) for i in members if households[i].lon is not None
                  and households[i].lat is not None]
        if placed:
            stops.append(sorted(members, key=lambda i: _inside_key(households[i], i)))
            where.append(project(np.array(placed, dtype=float)).mean(axis=0))
        else:
            unplaced_buildings.append((key, members))
    for i in loose:
        h = households[i]
        if h.lon is None or h.lat is None:
            unplaced.append(i)
        else:
            stops.append([i])
            where.append(project(np.array([[h.lon, h.lat]], dtype=float))[0])

    ordered, length = [], 0.0
    if stops:
        xy = np.array(where)
        if start is not None:
            xy = np.vstack((project(np.array([start], dtype=float)), xy))
            first = 0
        else:
            first = int(np.argmin(((xy - xy.min(axis=0)) ** 2).sum(axis=1)))
        tour = shortest_walk(xy, first)
        length = path_length(xy, tour)
        offset = len(xy) - len(stops)  # 1 when the start point leads the tour
        ordered = [households[i].id for s in tour if s >= offset for i in stops[s - offset]]
    ordered += _unplaced(households, unplaced_buildings, unplaced)
    return WalkOrder(household_ids=ordered, length_m=length)


def natural_key(text: str) -> tuple:
    """Sort key reading numbers as numbers, Chinese numerals included: "9栋" < "10栋", "二单元" < "10单元"."""
    text = _CN_NUMBER.sub(lambda m: str(_chinese_number(m.group())), unicodedata.normalize("NFKC", text or ""))
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower())
                 for part in re.findall(r"\d+|\D+", text.replace(" ", "")))


def shortest_walk(xy: np.ndarray, first: int = 0) -> list[int]:
    """Open path through all points from point `first` (end anywhere): nearest neighbour, then 2-opt."""
    n = len(xy)
    if n <= 2:
        return [first] + [i for i in range(n) if i != first]
    dist = np.hypot(xy[:, 0, None] - xy[None, :, 0], xy[:, 1, None] - xy[None, :, 1])
    return two_opt(dist, nearest_neighbour(dist, first))


def nearest_neighbour(dist: np.ndarray, first: int) -> list[int]:
    """Greedy tour: always on to the nearest point not yet visited."""
    left = dist.copy()
    left[:, first] = np.inf
    tour = [first]
    for _ in range(len(dist) - 1):
        here = int(np.argmin(left[tour[-1]]))
        left[:, here] = np.inf
        tour.append(here)
    return tour


def two_opt(dist: np.ndarray, tour: Sequence[int]) -> list[int]:
    """Improve an open path with fixed first point by 2-opt until no exchange of two edges shortens it.

    A dummy end point at distance 0 from everything lets the path end anywhere. An exchange (p, q) reverses
    tour[p+1..q] and gains d(t_p, t_p+1) + d(t_q, t_q+1) − d(t_p, t_q) − d(t_p+1, t_q+1). Each pass scores exchanges
    for all positions at once and applies the best non-overlapping ones: first only exchanges that create an edge to
    a near neighbour (cheap, finds nearly all gains), then every exchange, until none gains.
    """
    n = len(tour)
    if n < 4:
        return list(tour)
    full = np.zeros((n + 1, n + 1))
    full[:n, :n] = dist
    k = min(NEIGHBOURS + 1, n - 1)
    near = np.argpartition(dist, k, axis=1)[:, : k + 1]  # each point itself included: harmless, gains no move
    order = np.array([*tour, n])
    exhaustive = False
    while True:
        position = np.empty(n + 1, dtype=np.int64)
        position[order] = np.arange(n + 1)
        if exhaustive:
            p, q, gain = _all_exchanges(full, order)
        else:
            p, q, gain = _near_exchanges(full, order, position, near)
        if not len(gain):
            if exhaustive:
                return order[:n].tolist()
            exhaustive = True
            continue
        exhaustive = False
        touched = bytearray(n + 1)
        best = np.argsort(-gain, kind="stable")[:MOVES_PER_PASS]
        for a, b in zip(p[best].tolist(), q[best].tolist(), strict=True):
            if touched.find(1, a, b + 2) < 0:
                touched[a:b + 2] = b"\x01" * (b + 2 - a)
                order[a + 1:b + 1] = order[a + 1:b + 1][::-1].copy()


def _gain(full, order, p, q):
    return (full[order[p], order[p + 1]] + full[order[q], order[q + 1]]
            - full[order[p], order[q]] - full[order[p + 1], order[q + 1]])


def _near_exchanges(full, order, position, near):
    lo = np.minimum(position[: len(near), None], position[near]).ravel()
    hi = np.maximum(position[: len(near), None], position[near]).ravel()
    # Edge (a, c) is created as (t_p, t_q) by exchange (lo, hi), or as (t_p+1, t_q+1) by exchange (lo − 1, hi − 1).
    p, q = np.concatenate((lo, lo - 1)), np.concatenate((hi, hi - 1))
    ok = (p >= 0) & (q - p >= 2)
    p, q = p[ok], q[ok]
    gain = _gain(full, order, p, q)
    better = gain > 1e-9
    return p[better], q[better], gain[better]


def _all_exchanges(full, order):
    n = len(order) - 1
    t = full[np.ix_(order, order)]
    edge = t[np.arange(n), np.arange(1, n + 1)]
    gain = edge[:, None] + edge[None, :] - t[:n, :n] - t[1:, 1:]
    gain = np.triu(gain, k=2)
    p, q = np.nonzero(gain > 1e-9)
    return p, q, gain[p, q]


def path_length(xy: np.ndarray, tour: Sequence[int]) -> float:
    steps = np.diff(xy[list(tour)], axis=0)
    return float(np.sqrt((steps**2).sum(axis=1)).sum())


def _inside_key(h: HouseholdAddress, index: int) -> tuple:
    room = natural_key(_clean(h.room, "room"))
    floor = h.floor
    if floor is None and room and room[0][0] == 0 and room[0][1] >= 100:
        floor = room[0][1] // 100  # "501" is on the 5th floor
    return natural_key(_clean(h.unit, "unit")), (0, floor) if floor is not None else (1, 0), room, index


def _unplaced(households, buildings, loose) -> list[Hashable]:
    ordered = []
    for _, members in sorted(buildings, key=lambda item: item[0]):
        ordered += [households[i].id for i in sorted(members, key=lambda i: _inside_key(households[i], i))]
    return ordered + [households[i].id for i in loose]


def _clean(text: str | None, part: str | None = None) -> str:
    text = unicodedata.normalize("NFKC", text or "").strip().replace(" ", "")
    if part:
        text = _SUFFIX[part].sub("", text.removeprefix("第"))
    return text


def _chinese_number(text: str) -> int:
    if all(ch in _CN_DIGITS for ch in text):  # 二〇三 read digit by digit
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, digit = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            total += (digit or 1) * _CN_UNITS[ch]
            digit = 0
    return total + digit


def _projection(lonlat: np.ndarray):
    """Equirectangular projection around the mean latitude of the points given (metres)."""
    lat0 = math.radians(float(lonlat[:, 1].mean()))

    def project(points: np.ndarray) -> np.ndarray:
        rad = np.radians(points)
        return np.column_stack((EARTH_RADIUS_M * math.cos(lat0) * rad[:, 0], EARTH_RADIUS_M * rad[:, 1]))

    return project
