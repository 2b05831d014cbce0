"""The territory of the synthetic city as plain data: the area tree, grid cells, stations — no database.

Sizes follow the number of households: about HOUSEHOLDS_PER_CELL households a cell, CELLS_PER_COMMUNITY cells a
community, CELLS_PER_TOWNSHIP cells a township, so 20,000 households give ~67 cells and 1,400,000 ~4,700. Named
places always exist, which sets a floor of MIN_CELLS cells (small demos have smaller cells).

Boxes nest exactly: every child's outer edges are its parent's edge values, and siblings share the same cut
values, so cells never overlap and always lie inside their community, and communities inside townships.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from server.common.demo.geography import (
    CITY_CODE,
    CITY_NAME,
    DISTRICTS,
    NAME_FIRST,
    NAME_SECOND,
    NAMED_COMMUNITIES,
    NAMED_STATIONS,
    NAMED_TOWNSHIPS,
    Box,
    District,
)

HOUSEHOLDS_PER_CELL = 300
CELLS_PER_COMMUNITY = 4
CELLS_PER_TOWNSHIP = 36
MIN_TOWNSHIPS = 3  # per district, when it has the cells for them
MIN_COMMUNITIES = 2  # per township, likewise
RURAL_AREA_FACTOR = 3.0  # a rural household takes this many times the land of an urban one
TOWNSHIPS_PER_STATION = 2
_DIGITS = 7  # cut coordinates are rounded to 1e-7 degrees (~1 cm)


@dataclass
class CellPlan:
    code: str
    name: str
    box: Box
    households: int


@dataclass
class AreaPlan:
    code: str
    name: str
    level: str
    box: Box
    urban: bool = True
    children: list[AreaPlan] = field(default_factory=list)
    cells: list[CellPlan] = field(default_factory=list)
    n_cells: int = 0  # while planning: cells wanted under this node


@dataclass
class StationPlan:
    code: str
    name: str
    district_code: str
    township_codes: list[str]
    boxes: list[Box]
    location: tuple[float, float]


@dataclass
class CityPlan:
    city: AreaPlan
    stations: list[StationPlan]

    def levels(self) -> dict[str, list[AreaPlan]]:
        out: dict[str, list[AreaPlan]] = {"city": [self.city], "district": [], "township": [], "community": []}
        for d in self.city.children:
            out["district"].append(d)
            for t in d.children:
                out["township"].append(t)
                out["community"].extend(t.children)
        return out

    def cells(self) -> list[tuple[AreaPlan, AreaPlan, AreaPlan, CellPlan]]:
        """Every cell with its district, township and community, in code order."""
        return _all_cells(self.city)


def apportion(total: int, weights: list[float], minimums: list[int] | None = None) -> list[int]:
    """Split `total` into integers proportional to `weights` on top of `minimums` (largest remainder)."""
    minimums = minimums or [0] * len(weights)
    rest = total - sum(minimums)
    if rest < 0:
        raise ValueError("total below the sum of minimums")
    wsum = sum(weights)
    quotas = [rest * w / wsum for w in weights]
    shares = [int(q) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: (shares[i] - quotas[i], i))
    for i in order[: rest - sum(shares)]:
        shares[i] += 1
    return [m + s for m, s in zip(minimums, shares, strict=True)]


def _cuts(a: float, b: float, weights: list[float]) -> list[float]:
    """n+1 boundaries from a to b proportional to weights; the ends are a and b themselves."""
    total = sum(weights)
    cuts, acc = [a], 0.0
    for w in weights[:-1]:
        acc += w
        cuts.append(round(a + (b - a) * acc / total, _DIGITS))
    cuts.append(b)
    return cuts


def _rows(weights: list[float], n_rows: int) -> list[list[int]]:
    """Contiguous groups of indexes with about equal weight sums; every group non-empty."""
    total, groups, current, acc = sum(weights), [], [], 0.0
    for i, w in enumerate(weights):
        current.append(i)
        acc += w
        left_items, left_groups = len(weights) - i - 1, n_rows - len(groups) - 1
        if left_groups and (acc >= total * (len(groups) + 1) / n_rows or left_items == left_groups):
            groups.append(current)
            current = []
    groups.append(current)
    return [g for g in groups if g]


def tile(box: Box, weights: list[float]) -> list[Box]:
    """Cut a box into len(weights) boxes with areas proportional to weights, in rows from north to south."""
    x0, y0, x1, y1 = box
    n = len(weights)
    width = (x1 - x0) * math.cos(math.radians((y0 + y1) / 2))
    n_rows = max(1, min(n, round(math.sqrt(n * (y1 - y0) / width))))
    rows = _rows(weights, n_rows)
    ys = _cuts(y1, y0, [sum(weights[i] for i in row) for row in rows])
    out: list[Box] = [box] * n
    for r, row in enumerate(rows):
        xs = _cuts(x0, x1, [weights[i] for i in row])
        for k, i in enumerate(row):
            out[i] = (xs[k], ys[r + 1], xs[k + 1], ys[r])
    return out


def _root(name: str) -> str:
    for suffix in ("回族乡", "街道", "社区", "镇", "乡", "村"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _fresh_name(rng: random.Random, taken: set[str], suffix: str) -> str:
    for _ in range(1000):
        name = rng.choice(NAME_FIRST) + rng.choice(NAME_SECOND) + suffix
        if name not in taken and _root(name) not in {_root(t) for t in taken}:
            taken.add(name)
            return name
    raise RuntimeError("ran out of generated names")  # pragma: no cover - 2,000 combinations per suffix


def _min_cells_township(name: str) -> int:
    return max(1, sum(n for _, n in NAMED_COMMUNITIES.get(name, ())))


def _min_cells_district(d: District) -> int:
    return max(1, sum(_min_cells_township(t) for t in NAMED_TOWNSHIPS.get(d.code, ())))


MIN_CELLS = sum(_min_cells_district(d) for d in DISTRICTS)


def _split(parent_cells: int, per_child: int, min_children: int, named: list[tuple[str, int]],
           rng: random.Random) -> list[int]:
    """Cells for each child: named children first (with their minimum), then generated ones.

    Small cities still get `min_children` children per parent (of two cells or more) so that a demo has
    something to compare on a map.
    """
    mins = [m for _, m in named]
    spare = parent_cells - sum(mins)
    n_children = max(len(named), math.ceil(parent_cells / per_child), min(min_children, parent_cells // 2))
    n_children = min(n_children, len(named) + spare)
    mins += [1] * (n_children - len(named))
    weights = [rng.uniform(0.7, 1.3) for _ in range(n_children)]
    return apportion(parent_cells, weights, mins)


def city_plan(*, households: int, rng: random.Random) -> CityPlan:
    """Plan the synthetic city for this many households (at least MIN_CELLS cells)."""
    n_cells = max(MIN_CELLS, round(households / HOUSEHOLDS_PER_CELL))
    district_cells = apportion(n_cells, [d.population for d in DISTRICTS], [_min_cells_district(d) for d in DISTRICTS])
    xs = [d.box for d in DISTRICTS]
    city_box = (min(b[0] for b in xs), min(b[1] for b in xs), max(b[2] for b in xs), max(b[3] for b in xs))
    city = AreaPlan(CITY_CODE, CITY_NAME, "city", city_box)
    for d, d_cells in zip(DISTRICTS, district_cells, strict=True):
        city.children.append(_district_plan(d, d_cells, rng))
    cell_households = apportion(households, [rng.uniform(0.8, 1.25) for _ in range(n_cells)]) if households else []
    cells = [cell for _, _, _, cell in _all_cells(city)]
    for cell, n in zip(cells, cell_households, strict=True):
        cell.households = n
    _place(city)
    return CityPlan(city=city, stations=_stations(city))


def _district_plan(d: District, n_cells: int, rng: random.Random) -> AreaPlan:
    district = AreaPlan(d.code, d.name, "district", d.box, n_cells=n_cells)
    named = [(t, _min_cells_township(t)) for t in NAMED_TOWNSHIPS.get(d.code, ())]
    shares = _split(n_cells, CELLS_PER_TOWNSHIP, MIN_TOWNSHIPS, named, rng)
    pool = [t for t in d.townships if t not in dict(named)]
    taken = set(d.townships)
    for i, t_cells in enumerate(shares):
        if i < len(named):
            name = named[i][0]
        elif pool:
            name = pool.pop(0)
        else:
            name = _fresh_name(rng, taken, "街道" if i % 3 == 0 else "镇")
        code = f"{d.code}{i + 1:03d}"
        township = AreaPlan(code, name, "township", d.box, urban=name.endswith("街道"), n_cells=t_cells)
        district.children.append(township)
        _township_communities(township, rng)
    return district


def _township_communities(township: AreaPlan, rng: random.Random) -> None:
    named = list(NAMED_COMMUNITIES.get(township.name, ()))
    shares = _split(township.n_cells, CELLS_PER_COMMUNITY, MIN_COMMUNITIES, named, rng)
    taken = {name for name, _ in named}
    for i, c_cells in enumerate(shares):
        if i < len(named):
            name = named[i][0]
        else:
            # A town's seat is a 社区; the rest of a 镇/乡 are villages (村).
            seat = township.urban or (i == 0 and township.name.endswith("镇"))
            name = _fresh_name(rng, taken, "社区" if seat else "村")
        code = f"{township.code}{i + 1:03d}"
        community = AreaPlan(code, name, "community", township.box, urban=name.endswith("社区"), n_cells=c_cells)
        for k in range(c_cells):
            community.cells.append(CellPlan(f"{code}{k + 1:03d}", f"{name}第{k + 1}网格", township.box, 0))
        township.children.append(community)


def _all_cells(city: AreaPlan) -> list[tuple[AreaPlan, AreaPlan, AreaPlan, CellPlan]]:
    return [(d, t, c, cell) for d in city.children for t in d.children for c in t.children for cell in c.cells]


def _land(node: AreaPlan) -> float:
    """Land an area needs: its households, rural ones counting RURAL_AREA_FACTOR times."""
    if node.level == "community":
        return sum(max(cell.households, 1) for cell in node.cells) * (1.0 if node.urban else RURAL_AREA_FACTOR)
    return sum(_land(child) for child in node.children)


def _place(node: AreaPlan) -> None:
    """Give every township, community and cell its box inside its parent's box."""
    if node.level == "community":
        boxes = tile(node.box, [max(cell.households, 1) for cell in node.cells])
        for cell, box in zip(node.cells, boxes, strict=True):
            cell.box = box
        return
    if node.level != "city":
        for child, box in zip(node.children, tile(node.box, [_land(c) for c in node.children]), strict=True):
            child.box = box
    for child in node.children:
        _place(child)


def _stations(city: AreaPlan) -> list[StationPlan]:
    """Police stations: the named ones cover one township each, the others every TOWNSHIPS_PER_STATION."""
    stations = []
    for d in city.children:
        groups: list[list[AreaPlan]] = []
        rest: list[AreaPlan] = []
        for t in d.children:
            (groups.append([t]) if t.name in NAMED_STATIONS else rest.append(t))
        groups += [rest[i : i + TOWNSHIPS_PER_STATION] for i in range(0, len(rest), TOWNSHIPS_PER_STATION)]
        for n, group in enumerate(groups, start=1):
            first = group[0]
            name = NAMED_STATIONS.get(first.name) or f"{_root(first.name)}派出所"
            x0, y0, x1, y1 = first.box
            stations.append(StationPlan(
                code=f"PS{d.code}{n:02d}", name=name, district_code=d.code,
                township_codes=[t.code for t in group], boxes=[t.box for t in group],
                location=(round((x0 + x1) / 2, 6), round((y0 + y1) / 2, 6)),
            ))
    return stations
