"""Walk lists: a cell's households of a round in walking order, built for one cell or for a whole round at once.

The order itself comes from campaigns.walk_order (building by building where addresses allow, otherwise a
nearest-neighbour tour improved by 2-opt). Entries carry no personal data beyond counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, FloatField, Func, Q
from django.utils import timezone

from server.campaigns.models import Round
from server.campaigns.selectors import HouseholdState, household_states, round_households
from server.campaigns.walk_order import HouseholdAddress, walk_order
from server.registry.models import ELDERLY_AGE, Resident
from server.territory.models import GridCell


@dataclass(frozen=True)
class WalkListEntry:
    """One stop of a walk list."""

    order: int
    household_id: int
    register_id: str
    address: str
    street: str
    building: str
    unit: str
    floor: int | None
    room: str
    lon: float
    lat: float
    residents: int
    elderly: int
    state: HouseholdState | None


_FIELDS = ("id", "cell_id", "register_id", "address", "street", "building", "unit", "floor", "room", "lon", "lat")


def _coord(fn: str) -> Func:
    # Coordinates read in the database: building 200,000 GEOS points in Python costs seconds.
    return Func("location", function=fn, output_field=FloatField())


def walk_lists(
    *, round: Round, cells: list[GridCell] | None = None, start: tuple[float, float] | None = None
) -> dict[int, list[WalkListEntry]]:
    """cell id → walk list, for the given cells (default: every cell with households this round), in few queries."""
    qs = round_households(round=round).filter(cell__isnull=False)
    if cells is not None:
        qs = qs.filter(cell__in=[c.pk for c in cells])
    rows = list(qs.annotate(lon=_coord("ST_X"), lat=_coord("ST_Y")).values(*_FIELDS))
    ids = [r["id"] for r in rows]
    elderly_born_by = timezone.localdate().year - ELDERLY_AGE
    counts = {
        r["household_id"]: (r["n"], r["old"])
        for r in Resident.objects.filter(household__in=qs).values("household_id").annotate(
            n=Count("id"), old=Count("id", filter=Q(birth_year__lte=elderly_born_by)))
    }
    states = household_states(round=round, household_ids=ids if cells is not None else None)
    by_cell: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        by_cell[r["cell_id"]].append(r)
    result = {}
    for cell_id, cell_rows in by_cell.items():
        by_id = {r["id"]: r for r in cell_rows}
        result[cell_id] = [
            _entry(i + 1, by_id[hid], counts.get(hid, (0, 0)), states.get(hid))
            for i, hid in enumerate(_order(cell_rows, start))
        ]
    return result


def walk_list(*, round: Round, cell: GridCell, start: tuple[float, float] | None = None) -> list[WalkListEntry]:
    """One cell's walk list."""
    return walk_lists(round=round, cells=[cell], start=start).get(cell.pk, [])


def _entry(order: int, r: dict, counts: tuple[int, int], state: HouseholdState | None) -> WalkListEntry:
    return WalkListEntry(
        order=order, household_id=r["id"], register_id=r["register_id"], address=r["address"], street=r["street"],
        building=r["building"], unit=r["unit"], floor=r["floor"], room=r["room"], lon=r["lon"],
        lat=r["lat"], residents=counts[0], elderly=counts[1], state=state,
    )


def _order(rows: list[dict], start: tuple[float, float] | None) -> list[int]:
    """Household ids in walking order (building by building where addresses allow, else a 2-opt tour)."""
    houses = [
        HouseholdAddress(id=r["id"], lon=r["lon"], lat=r["lat"], street=r["street"], building=r["building"],
                         unit=r["unit"], floor=r["floor"], room=r["room"])
        for r in rows
    ]
    return list(walk_order(households=houses, start=start).household_ids)
