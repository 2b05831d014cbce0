"""Households, residents and key places of the synthetic city, written in batches.

Urban communities (社区) are compounds of apartment buildings: households of one building share its point and
differ by unit, floor and room. Villages (村) are houses along village groups (王郢组 …), one point each. Every
point lies strictly inside its cell (a small inset from the edges), so the cell a household is filed under is
also the cell that contains it.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from typing import TextIO

from django.contrib.gis.geos import Point
from tqdm import tqdm

from server.common import pii
from server.common.demo.geography import (
    DISTRICTS,
    ENTERPRISE_BRANDS,
    ENTERPRISE_TRADES,
    GROUP_SUFFIXES,
    GROUP_SURNAMES,
    REFERENCE_YEAR,
)
from server.common.demo.people import IdNumbers, Person, family, household_size, mobile, person_name
from server.common.demo.plan import AreaPlan, CellPlan, CityPlan
from server.registry.models import ELDERLY_AGE, Household, HouseholdStatus, KeyGroup, KeyPlace, KeyPlaceKind, Resident
from server.registry.services import resident_set_identity
from server.territory.models import Area, GridCell

BATCH_HOUSEHOLDS = 2000
VACANT_SHARE = 0.04
DEMOLISHED_SHARE = 0.01
_INSET = 0.04  # share of a cell's width/height kept free along its edges
_STREETS = {d.code: d.streets for d in DISTRICTS}
_SCHOOL_KINDS = (("小学", 0.45, (200, 1500)), ("中心小学", 0.2, (400, 2000)), ("初级中学", 0.2, (500, 2500)),
                 ("中学", 0.1, (800, 3500)), ("职业技术学校", 0.05, (800, 5000)))


@dataclass
class HouseholdRow:
    street: str
    building: str
    unit: str
    floor: int | None
    room: str
    address: str
    point: tuple[float, float]
    status: str
    people: list[Person]


@dataclass
class RegisterCounts:
    households: Counter = field(default_factory=Counter)  # by status
    residents: int = 0
    elderly: int = 0
    tagged: Counter = field(default_factory=Counter)  # by key group
    enterprises: int = 0
    schools: int = 0


def _inside(rng: random.Random, box: tuple[float, float, float, float]) -> tuple[float, float]:
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * _INSET, (y1 - y0) * _INSET
    return round(rng.uniform(x0 + dx, x1 - dx), 6), round(rng.uniform(y0 + dy, y1 - dy), 6)


def _status(rng: random.Random) -> str:
    r = rng.random()
    if r < DEMOLISHED_SHARE:
        return HouseholdStatus.DEMOLISHED
    return HouseholdStatus.VACANT if r < DEMOLISHED_SHARE + VACANT_SHARE else HouseholdStatus.OCCUPIED


class StreetNumbers:
    """Door numbers that only go up along each street of a district, so compound addresses never repeat."""

    def __init__(self) -> None:
        self._last: Counter = Counter()

    def next(self, rng: random.Random, street: str) -> int:
        self._last[street] += rng.randint(1, 12)
        return self._last[street]


def _urban_rows(rng, cell: CellPlan, d: AreaPlan, prefix: str, numbers: StreetNumbers) -> Iterator[HouseholdRow]:
    left, building_no, gate = cell.households, 0, ""
    while left > 0:
        if building_no % 12 == 0:  # a new compound (小区) every dozen buildings
            street = rng.choice(_STREETS[d.code])
            gate, building_no = f"{street}{numbers.next(rng, street)}号", 0
        building_no += 1
        units, floors = rng.randint(1, 3), rng.choice((5, 6, 6, 7, 11, 18))
        point = _inside(rng, cell.box)
        for unit in range(1, units + 1):
            for floor in range(1, floors + 1):
                for door in (1, 2):
                    if left == 0:
                        return
                    left -= 1
                    room = f"{floor}{door:02d}"
                    yield HouseholdRow(
                        street=gate, building=str(building_no), unit=str(unit), floor=floor, room=room,
                        address=f"{prefix} {gate} {building_no}栋{unit}单元{room}室", point=point,
                        status=_status(rng), people=[],
                    )


def _rural_rows(rng, cell: CellPlan, prefix: str, houses: Counter) -> Iterator[HouseholdRow]:
    """Houses along village groups; `houses` counts the village's houses per group across its cells."""
    left = cell.households
    while left > 0:
        group = rng.choice(GROUP_SURNAMES) + rng.choice(GROUP_SUFFIXES) + "组"
        for _ in range(min(left, rng.randint(15, 45))):
            left -= 1
            houses[group] += 1
            house = houses[group]
            yield HouseholdRow(
                street=group, building=str(house), unit="", floor=1, room="",
                address=f"{prefix} {group}{house}号", point=_inside(rng, cell.box), status=_status(rng), people=[],
            )


def household_rows(rng: random.Random, plan: CityPlan) -> Iterator[tuple[AreaPlan, AreaPlan, CellPlan, HouseholdRow]]:
    """Every household of the city with its people, cell by cell in code order."""
    ids = IdNumbers()
    numbers: dict[str, StreetNumbers] = {}
    houses: dict[str, Counter] = {}
    for d, t, c, cell in plan.cells():
        prefix = f"{d.name}{t.name}{c.name}"
        if c.urban:
            rows = _urban_rows(rng, cell, d, prefix, numbers.setdefault(d.code, StreetNumbers()))
        else:
            rows = _rural_rows(rng, cell, prefix, houses.setdefault(c.code, Counter()))
        for row in rows:
            row.people = family(rng, household_size(rng), home_area=d.code, ids=ids)
            yield d, c, cell, row


def households_write(
    *, rng: random.Random, plan: CityPlan, areas: dict[str, Area], cells: dict[str, GridCell], now: datetime,
    progress: TextIO | None,
) -> RegisterCounts:
    """Create every household and resident (with key-group tags) in batches; return what was made."""
    groups = {g.code: g.id for g in KeyGroup.objects.all()}
    counts = RegisterCounts()
    total = sum(cell.households for _, _, _, cell in plan.cells())
    bar = tqdm(total=total, file=progress, unit="户", disable=progress is None, mininterval=1.0)
    seq: Counter = Counter()
    batch: list[tuple[Household, list[Person]]] = []
    for _d, c, cell, row in household_rows(rng, plan):
        seq[cell.code] += 1
        household = Household(
            register_id=f"{cell.code}{seq[cell.code]:04d}", community=areas[c.code], cell=cells[cell.code],
            street=row.street, building=row.building, unit=row.unit, floor=row.floor, room=row.room,
            address=row.address, location=Point(*row.point, srid=4326), status=row.status, size=len(row.people),
            created_at=now,
        )
        batch.append((household, row.people))
        if len(batch) >= BATCH_HOUSEHOLDS:
            _flush(batch, groups, counts)
            bar.update(len(batch))
            batch = []
    if batch:
        _flush(batch, groups, counts)
        bar.update(len(batch))
    bar.close()
    return counts


def _flush(batch: list[tuple[Household, list[Person]]], groups: dict[str, int], counts: RegisterCounts) -> None:
    created = Household.objects.bulk_create([h for h, _ in batch], batch_size=BATCH_HOUSEHOLDS)
    residents, tags = [], []
    for household, people in zip(created, (p for _, p in batch), strict=True):
        counts.households[household.status] += 1
        for person in people:
            resident = Resident(household_id=household.pk, name=person.name, sex=person.sex,
                                birth_year=person.birth_year)
            resident_set_identity(resident=resident, phone=person.phone, id_number=person.id_number)
            residents.append(resident)
            tags.append(person.groups)
            counts.elderly += REFERENCE_YEAR - person.birth_year >= ELDERLY_AGE
    Resident.objects.bulk_create(residents, batch_size=5000)
    counts.residents += len(residents)
    through = Resident.key_groups.through
    links = [through(resident_id=r.pk, keygroup_id=groups[code])
             for r, codes in zip(residents, tags, strict=True) for code in codes if code in groups]
    through.objects.bulk_create(links, batch_size=5000)
    counts.tagged.update(code for codes in tags for code in codes if code in groups)


def key_places_write(
    *, rng: random.Random, plan: CityPlan, areas: dict[str, Area], counts: RegisterCounts,
) -> None:
    """Enterprises and schools, placed in cells with probability proportional to their households."""
    cells = plan.cells()
    total = sum(cell.households for *_, cell in cells)
    n_enterprises = max(len(DISTRICTS), round(total / 500))
    n_schools = max(len(DISTRICTS), round(total / 1500))
    cum_weights = list(accumulate(max(cell.households, 1) for *_, cell in cells))
    places, taken = [], set()
    for i in range(n_enterprises + n_schools):
        d, t, c, cell = rng.choices(cells, cum_weights=cum_weights)[0]
        is_school = i >= n_enterprises
        name, size = _school(rng, t, taken) if is_school else _enterprise(rng, d, taken)
        street = rng.choice(_STREETS[d.code])
        contact, _ = person_name(rng)
        phone = f"0550-{rng.randint(2000000, 7999999)}" if is_school or rng.random() < 0.3 else mobile(rng)
        place = KeyPlace(
            kind=KeyPlaceKind.SCHOOL if is_school else KeyPlaceKind.ENTERPRISE, name=name, community=areas[c.code],
            address=f"{d.name}{t.name}{c.name} {street}{rng.randint(1, 399)}号",
            location=Point(*_inside(rng, cell.box), srid=4326), contact_name=contact, size=size,
        )
        place.contact_phone_cipher, place.contact_phone_masked = pii.phone_encrypt(phone), pii.phone_mask(phone)
        places.append(place)
    KeyPlace.objects.bulk_create(places, batch_size=2000)
    counts.schools, counts.enterprises = n_schools, n_enterprises


def _unique(name: str, taken: set[str]) -> str:
    base, n = name, 1
    while name in taken:
        n += 1
        name = f"{base}（{n}）"
    taken.add(name)
    return name


def _enterprise(rng: random.Random, d: AreaPlan, taken: set[str]) -> tuple[str, int]:
    city = "滁州" if d.name in ("琅琊区", "南谯区", "经开区") else d.name[:-1]
    name = f"{city}{rng.choice(ENTERPRISE_BRANDS)}{rng.choice(ENTERPRISE_TRADES)}有限公司"
    size = min(6000, max(5, int(rng.lognormvariate(math.log(60), 1.1))))
    return _unique(name, taken), size


def _school(rng: random.Random, t: AreaPlan, taken: set[str]) -> tuple[str, int]:
    kind, _, (lo, hi) = rng.choices(_SCHOOL_KINDS, weights=[k[1] for k in _SCHOOL_KINDS])[0]
    root = t.name.removesuffix("街道").removesuffix("回族乡").removesuffix("镇").removesuffix("乡")
    return _unique(f"{root}{kind}", taken), rng.randint(lo, hi)
