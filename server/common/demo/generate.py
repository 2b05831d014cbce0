"""Write the synthetic Chuzhou to the database, check whether it is there, and delete it again.

One random.Random(seed) drives everything in a fixed order (territory, households, key places), so the same seed
and number of households give the same register. Only timestamps and the phone ciphertexts (Fernet uses a
random IV) differ between two runs.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

from django.contrib.gis.geos import GeometryCollection, MultiPolygon, Point, Polygon
from django.db import connection, transaction
from django.utils import timezone

from server.accounts.models import Role, Team, User
from server.accounts.services import team_create, user_create
from server.campaigns.demo import demo_campaign_seed, demo_campaigns_delete
from server.common.demo import geography as geo
from server.common.demo.households import RegisterCounts, households_write, key_places_write
from server.common.demo.plan import MIN_CELLS, CityPlan, city_plan
from server.registry.models import Household, KeyPlace
from server.territory.models import Area, GridCell, PoliceStation, area_path

DEMO_USER_PREFIX = "demo-"
DEFAULT_PASSWORD = "qiaomen-demo"
DEFAULT_HOUSEHOLDS = 20_000
MIN_HOUSEHOLDS = MIN_CELLS * 20
_DELETE_BATCH = 5000


@dataclass
class SeedSummary:
    levels: dict[str, int]
    cells: int
    stations: int
    register: RegisterCounts
    accounts: list[tuple[str, str]]  # (username, role)
    teams: list[str]
    seconds: float = 0.0
    worker_cells: list[str] = field(default_factory=list)
    campaign: str = ""


def demo_city_exists() -> bool:
    """True when city 341100 (or any demo account) is already in the database."""
    return (
        Area.objects.filter(code=geo.CITY_CODE).exists()
        or User.objects.filter(username__startswith=DEMO_USER_PREFIX).exists()
    )


def _box(box: tuple[float, float, float, float]) -> Polygon:
    x0, y0, x1, y1 = box
    return Polygon(((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)), srid=4326)


def _multi(*boxes: tuple[float, float, float, float]) -> MultiPolygon:
    return MultiPolygon(*[_box(b) for b in boxes], srid=4326)


def _areas_write(plan: CityPlan) -> dict[str, Area]:
    levels = plan.levels()
    city_plan_ = plan.city
    city = Area(code=city_plan_.code, name=city_plan_.name, level="city",
                geom=_multi(*[d.box for d in city_plan_.children]))
    city.save()
    areas = {city.code: city}
    parents = {d.code: city_plan_ for d in city_plan_.children}
    for d in city_plan_.children:
        for t in d.children:
            parents[t.code] = d
            for c in t.children:
                parents[c.code] = t
    for level in ("district", "township", "community"):
        rows = []
        for node in levels[level]:
            parent = areas[parents[node.code].code]
            rows.append(Area(code=node.code, name=node.name, level=level, parent=parent,
                             path=area_path(parent, node.code), geom=_multi(node.box)))
        for area in Area.objects.bulk_create(rows, batch_size=2000):
            areas[area.code] = area
    return areas


def _cells_write(plan: CityPlan, areas: dict[str, Area]) -> dict[str, GridCell]:
    rows = []
    for _, _, c, cell in plan.cells():
        community = areas[c.code]
        rows.append(GridCell(code=cell.code, name=cell.name, community=community,
                             path=area_path(community, cell.code), geom=_box(cell.box)))
    return {cell.code: cell for cell in GridCell.objects.bulk_create(rows, batch_size=2000)}


def _stations_write(plan: CityPlan, areas: dict[str, Area]) -> dict[str, PoliceStation]:
    rows = []
    for s in plan.stations:
        district = areas[s.district_code]
        union = GeometryCollection(*[_box(b) for b in s.boxes], srid=4326).unary_union
        geom = union if isinstance(union, MultiPolygon) else MultiPolygon(union, srid=4326)
        rows.append(PoliceStation(code=s.code, name=s.name, district=district, path=area_path(district, s.code),
                                  geom=geom, location=Point(*s.location, srid=4326)))
    return {s.code: s for s in PoliceStation.objects.bulk_create(rows)}


def _find(areas: dict[str, Area], name: str, level: str, parent: Area | None = None) -> Area:
    return next(a for a in areas.values() if a.name == name and a.level == level
                and (parent is None or a.parent_id == parent.pk))


def _accounts_write(*, password: str, areas: dict[str, Area], cells: dict[str, GridCell],
                    stations: dict[str, PoliceStation]) -> tuple[list[User], list[Team], list[str]]:
    """One demo account per role around 清流街道 / 向桥社区, a second worker and two teams."""
    city = areas[geo.CITY_CODE]
    district = _find(areas, geo.DEMO_DISTRICT, "district")
    township = _find(areas, geo.DEMO_TOWNSHIP, "township", district)
    community = _find(areas, geo.DEMO_COMMUNITY, "community", township)
    second = _find(areas, geo.DEMO_SECOND_COMMUNITY, "community", township)
    station = next(s for s in stations.values() if s.name == geo.DEMO_STATION and s.district_id == district.pk)

    def make(username: str, role: str, name: str, area_list: list[Area], police_station=None) -> User:
        return user_create(username=f"{DEMO_USER_PREFIX}{username}", password=password, role=role,
                           areas=area_list, last_name="演示", first_name=name, police_station=police_station)

    users = [
        make("city", Role.CITY_ADMIN, "市反诈中心", [city]),
        make("district", Role.DISTRICT_ADMIN, f"{district.name}管理员", [district]),
        make("chief", Role.STATION_CHIEF, f"{station.name}所长", [township], police_station=station),
        make("township", Role.TOWNSHIP_STAFF, f"{township.name}工作人员", [township]),
        make("worker", Role.GRID_WORKER, f"{community.name}网格员", [community]),
        make("volunteer", Role.VOLUNTEER, f"{community.name}志愿者", [community]),
        make("worker2", Role.GRID_WORKER, f"{second.name}网格员", [second]),
    ]
    worker, volunteer, worker2 = users[4], users[5], users[6]
    own = sorted(code for code, cell in cells.items() if cell.community_id == community.pk)[:3]
    other = sorted(code for code, cell in cells.items() if cell.community_id == second.pk)
    GridCell.objects.filter(code__in=own).update(worker=worker)
    GridCell.objects.filter(code__in=other).update(worker=worker2)
    teams = [
        team_create(name=f"{station.name}{community.name}反诈宣传小分队", area=community,
                    members=[worker, volunteer], leader=worker, police_station=station),
        team_create(name=f"{station.name}{second.name}反诈宣传小分队", area=second,
                    members=[worker2], leader=worker2, police_station=station),
    ]
    return users, teams, own


def _campaign_write(*, areas: dict[str, Area], users: list[User], teams: list[Team], worker_cells: list[str],
                    seed: int):
    """清流街道's campaign with round 1 open: demo-worker holds their cells, demo-chief plans."""
    district = _find(areas, geo.DEMO_DISTRICT, "district")
    township = _find(areas, geo.DEMO_TOWNSHIP, "township", district)
    by_name = {u.username: u for u in users}
    return demo_campaign_seed(
        township=township, chief=by_name[f"{DEMO_USER_PREFIX}chief"], worker=by_name[f"{DEMO_USER_PREFIX}worker"],
        teams=teams, worker_cells=worker_cells, seed=seed,
    )


@contextmanager
def _sqlite_bulk_cache() -> Iterator[None]:
    """A big page cache for this connection while loading SQLite.

    The register's indexes (ID hash, register id, spatial index) take random writes; with the default 2 MB
    cache a large load spills pages to the WAL again and again and slows down more than linearly.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA cache_size")
        before = cur.fetchone()[0]
        cur.execute("PRAGMA cache_size = -262144")  # 256 MB
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA cache_size = {int(before)}")


@transaction.atomic
def demo_city_seed(*, households: int = DEFAULT_HOUSEHOLDS, seed: int = 1, password: str = DEFAULT_PASSWORD,
                   progress: TextIO | None = None) -> SeedSummary:
    """Create the synthetic Chuzhou: areas, cells, stations, households, residents, key places, demo accounts.

    The caller checks demo_city_exists() first; codes and usernames are unique, so a second run fails.
    """
    if households < MIN_HOUSEHOLDS:
        raise ValueError(f"at least {MIN_HOUSEHOLDS} households are needed (every named place has a cell)")
    started = time.monotonic()
    rng = random.Random(seed)
    plan = city_plan(households=households, rng=rng)
    areas = _areas_write(plan)
    cells = _cells_write(plan, areas)
    stations = _stations_write(plan, areas)
    with _sqlite_bulk_cache():
        register = households_write(rng=rng, plan=plan, areas=areas, cells=cells, now=timezone.now(),
                                    progress=progress)
    key_places_write(rng=rng, plan=plan, areas=areas, counts=register)
    users, teams, worker_cells = _accounts_write(password=password, areas=areas, cells=cells, stations=stations)
    campaign = _campaign_write(areas=areas, users=users, teams=teams, worker_cells=worker_cells, seed=seed)
    return SeedSummary(
        levels={level: len(nodes) for level, nodes in plan.levels().items()}, cells=len(cells),
        stations=len(stations), register=register, accounts=[(u.username, u.role) for u in users],
        teams=[t.name for t in teams], seconds=time.monotonic() - started, worker_cells=worker_cells,
        campaign=campaign.name,
    )


@transaction.atomic
def demo_city_delete(*, progress: TextIO | None = None) -> int:
    """Delete city 341100 with everything under it, the demo accounts and their teams. Returns households deleted.

    Goes through the ORM (in batches) so that records other apps hang on these rows are handled by their
    on_delete rules; a PROTECT among them raises ProtectedError and nothing is deleted.
    """
    prefix = f"{geo.CITY_CODE}/"
    demo_campaigns_delete(path_prefix=prefix)
    Team.objects.filter(area__path__startswith=prefix).delete()
    User.objects.filter(username__startswith=DEMO_USER_PREFIX).delete()
    KeyPlace.objects.filter(community__path__startswith=prefix).delete()
    ids = list(Household.objects.filter(community__path__startswith=prefix).order_by("id").values_list("id", flat=True))
    for i in range(0, len(ids), _DELETE_BATCH):
        Household.objects.filter(pk__in=ids[i : i + _DELETE_BATCH]).only("id").delete()
        if progress is not None:
            progress.write(f"\r删除住户 deleting households {min(i + _DELETE_BATCH, len(ids))}/{len(ids)}")
    if progress is not None and ids:
        progress.write("\n")
    GridCell.objects.filter(path__startswith=prefix).delete()
    PoliceStation.objects.filter(path__startswith=prefix).delete()
    for level in ("community", "township", "district", "city"):
        Area.objects.filter(level=level, path__startswith=prefix).delete()
    return len(ids)


def summary_lines(summary: SeedSummary) -> list[str]:
    r = summary.register
    n_households = sum(r.households.values())
    lines = [
        f"滁州市 demo city seeded in {summary.seconds:.1f} s",
        "  areas 区域: " + ", ".join(f"{level} {n}" for level, n in summary.levels.items()),
        f"  grid cells 网格: {summary.cells}   police stations 派出所: {summary.stations}",
        f"  households 住户: {n_households} (" + ", ".join(f"{k} {v}" for k, v in sorted(r.households.items())) + ")",
        f"  residents 居民: {r.residents} (aged 60+ {r.elderly / max(r.residents, 1):.1%}; tagged "
        + ", ".join(f"{k} {v}" for k, v in sorted(r.tagged.items())) + ")",
        f"  key places 重点场所: enterprises {r.enterprises}, schools {r.schools}",
        "  accounts 账号: " + ", ".join(f"{u} ({role})" for u, role in summary.accounts),
        f"  teams 小分队: {', '.join(summary.teams)}",
        f"  demo-worker holds cells 网格员负责网格: {', '.join(summary.worker_cells)}",
        f"  campaign 敲门行动: {summary.campaign} (round 1 open 第1轮进行中; plan at /plan/ as demo-chief)",
    ]
    return lines


__all__ = ["DEFAULT_HOUSEHOLDS", "DEFAULT_PASSWORD", "MIN_HOUSEHOLDS", "SeedSummary", "demo_city_delete",
           "demo_city_exists", "demo_city_seed", "summary_lines"]
