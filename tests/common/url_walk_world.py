"""The world the URL walk runs in: the mini city plus a second city, one user per role, three campaigns with open
rounds and visits, reports, devices, key places, police stations and household reports — every kind of object
both inside and outside each role's territory (tests/common/test_url_walk.py).

Territories (cells by index into `World.cells`: 0–7 the mini city's, 8 the other city's):

| role | areas | cells inside | nearest cell outside |
|---|---|---|---|
| city_admin | city 341100 | 0–7 | 8 (another city) |
| district_admin, station_chief | district 341102 | 0–3 | 4 (district 341103) |
| township_staff | township 341102001 | 0–1 | 2 (the other township of the district) |
| grid_worker | community 341102001001; holds cell 0 in round A1 | 0 | 1 (same community) |
| volunteer | community 341102001001; member of team 一队, which holds cell 1 in A1 | 1 | 0 (same community) |

Campaign A covers district 341102 (round A1 open), B district 341103 (B1 open), C the other city (C1 open). Every
cell of a campaign has one reached visit in its round (by the worker holding it), so coverage totals are easy to
check: a role counts 3 households to visit and 1 reached per cell it may see.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.gis.geos import MultiPolygon, Point
from django.test import TestCase
from django.utils import timezone

from server.accounts import services as account_services
from server.accounts.models import Role, User
from server.campaigns import services as campaign_services
from server.campaigns.models import Campaign, Round
from server.registry.models import Household, KeyPlace, KeyPlaceKind
from server.reports import services as report_services
from server.reports.models import Report
from server.sync import services as sync_services
from server.sync.models import HouseholdReport
from server.territory.models import Area, AreaLevel, GridCell, PoliceStation
from server.visits.models import VisitSource
from server.visits.services import VisitInput, visits_record
from tests.factories import HouseholdFactory, MiniCity, ResidentFactory, build_mini_city, make_user, square

ROLES = [r.value for r in Role]
AREA_ROLES = ["city_admin", "district_admin", "station_chief", "township_staff"]
FIELD_ROLES = ["grid_worker", "volunteer"]
ANON = "anonymous"

# role → (cells inside, the nearest cell outside), by index into World.cells
CELLS = {
    "city_admin": (range(0, 8), 8),
    "district_admin": (range(0, 4), 4),
    "station_chief": (range(0, 4), 4),
    "township_staff": (range(0, 2), 2),
    "grid_worker": ((0,), 1),
    "volunteer": ((1,), 0),
    ANON: ((), 0),
}


@dataclass
class Territory:
    """What a role may reach, described independently of server/accounts/scoping.py: area paths (area roles) or
    the codes of the cells held (field roles)."""

    paths: tuple[str, ...] = ()
    cells: frozenset[str] = frozenset()
    cell_paths: tuple[str, ...] = ()

    def under(self, path: str | None) -> bool:
        """Is the node at `path` (an area, cell or station path) inside? Field roles: only their cells."""
        if not path:
            return False
        if self.paths:
            return any(path.startswith(p) for p in self.paths)
        return any(path.startswith(p) for p in self.cell_paths)


@dataclass
class World:
    mc: MiniCity
    cells: list[GridCell]
    other_city: Area
    users: dict[str, User]
    territory: dict[str, Territory]
    campaigns: dict[str, Campaign]
    rounds: dict[str, Round]
    teams: dict[str, object]
    reports: dict[str, Report]
    tokens: dict[str, str]
    stations: dict[str, PoliceStation]

    # objects inside / outside a role's territory --------------------------------------------------------------
    def cell(self, role: str, side: str) -> GridCell:
        inside, outside = CELLS[role]
        return self.cells[next(iter(inside), 0)] if side == "in" else self.cells[outside]

    def household(self, role: str, side: str) -> Household:
        return Household.objects.filter(cell=self.cell(role, side)).order_by("pk").first()

    def campaign(self, role: str, side: str) -> Campaign:
        if side == "in":
            return self.campaigns["A"]
        return self.campaigns["C"] if role == "city_admin" else self.campaigns["B"]

    def round(self, role: str, side: str) -> Round:
        return self.campaign(role, side).rounds.get()

    def report(self, role: str, side: str) -> Report:
        if side == "in":
            return self.reports["T0"]
        return self.reports["other"] if role == "city_admin" else self.reports["D1"]

    def user_of(self, role: str, side: str) -> User:
        """An account working inside / outside the role's territory (gw works in cell 0's community)."""
        if side == "in":
            return self.users["grid_worker"]
        return self.users["gw_city2"] if role == "city_admin" else self.users["gw_d1"]

    def team(self, role: str, side: str):
        if side == "in":
            return self.teams["一队"]
        return self.teams["三队"] if role == "city_admin" else self.teams["二队"]

    def station(self, role: str, side: str) -> PoliceStation:
        if side == "in":
            return self.stations["D0"]
        return self.stations["city2"] if role == "city_admin" else self.stations["D1"]


def _other_city() -> tuple[Area, list[GridCell]]:
    city = Area.objects.create(code="341200", name="邻市", level=AreaLevel.CITY,
                               geom=MultiPolygon(square(119.0, 32.0, 0.5)))
    district = Area.objects.create(code="341202", name="邻市甲区", level=AreaLevel.DISTRICT, parent=city,
                                   geom=MultiPolygon(square(119.0, 32.0, 0.5)))
    township = Area.objects.create(code="341202001", name="邻市甲区第1街道", level=AreaLevel.TOWNSHIP,
                                   parent=district, geom=MultiPolygon(square(119.0, 32.0, 0.25)))
    community = Area.objects.create(code="341202001001", name="邻市社区", level=AreaLevel.COMMUNITY,
                                    parent=township, geom=MultiPolygon(square(119.0, 32.0, 0.1)))
    cell = GridCell.objects.create(code="341202001001001", name="邻市1网格", community=community,
                                   geom=square(119.0, 32.0, 0.02))
    for h in range(3):
        household = HouseholdFactory(community=community, cell=cell,
                                     location=Point(119.0 + 0.005 * (h + 1), 32.01, srid=4326))
        ResidentFactory(household=household)
    return city, [cell]


def _visit(worker: User, household: Household, round: Round) -> None:
    item = VisitInput(id=str(uuid.uuid4()), household=household.pk, round=round.pk, outcome="reached",
                      captured_at=timezone.now().isoformat(), lat=household.location.y, lon=household.location.x,
                      accuracy_m=8.0, app_installed=True)
    results = visits_record(user=worker, items=[item], source=VisitSource.WEB)
    assert [r.status for r in results] == ["accepted"], [(r.code, r.message) for r in results]


def _campaign(name: str, area: Area, by: User, holders: dict[int, tuple], cells: list[GridCell]) -> Campaign:
    campaign = campaign_services.campaign_create(name=name, areas=[area], starts_on=dt.date(2026, 1, 1),
                                                 ends_on=dt.date(2030, 12, 31), created_by=by)
    round = campaign_services.round_create(campaign=campaign, starts_on=dt.date(2026, 1, 1),
                                           ends_on=dt.date(2030, 12, 31))
    for index, (team, worker) in holders.items():
        campaign_services.cell_assign(round=round, cell=cells[index], team=team, worker=worker, user=by,
                                      reason="计划 plan")
    campaign_services.round_open(round=round, user=by)
    return campaign


def build_world() -> World:
    """Everything the walk needs; after-commit work (coverage, reports) runs as a commit would run it."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return _build_world()


def _build_world() -> World:
    mc = build_mini_city()
    other_city, other_cells = _other_city()
    cells = [*mc.cells, *other_cells]
    d0, d1 = mc.districts
    stations = {
        "D0": PoliceStation.objects.create(code="PS341102A", name="琅琊派出所", district=d0),
        "D1": PoliceStation.objects.create(code="PS341103A", name="南谯派出所", district=d1),
        "city2": PoliceStation.objects.create(code="PS341202A", name="邻市派出所",
                                              district=Area.objects.get(code="341202")),
    }
    root = User.objects.create_superuser("root", "root@example.org", "root-pass-Qm2026")
    users = {
        "city_admin": make_user("ca", Role.CITY_ADMIN, areas=[mc.city]),
        "district_admin": make_user("da", Role.DISTRICT_ADMIN, areas=[d0]),
        "station_chief": make_user("sc", Role.STATION_CHIEF, areas=[d0]),
        "township_staff": make_user("ts", Role.TOWNSHIP_STAFF, areas=[mc.townships[0]]),
        "grid_worker": make_user("gw", Role.GRID_WORKER, areas=[mc.communities[0]]),
        "volunteer": make_user("vol", Role.VOLUNTEER, areas=[mc.communities[0]]),
        # workers holding the cells nobody above holds
        "gw_t1": make_user("gw_t1", Role.GRID_WORKER, areas=[mc.communities[1]]),
        "gw_d1": make_user("gw_d1", Role.GRID_WORKER, areas=[mc.communities[2]]),
        "gw_city2": make_user("gw_city2", Role.GRID_WORKER, areas=[other_cells[0].community]),
        "root": root,
    }
    users["station_chief"].police_station = stations["D0"]
    users["station_chief"].save(update_fields=["police_station"])
    # an account without areas: its audit entries have no territory (city admins and superusers read them)
    make_user("nobody", Role.VOLUNTEER, areas=[])
    teams = {
        "一队": account_services.team_create(name="一队", area=d0, members=[users["volunteer"]]),
        "二队": account_services.team_create(name="二队", area=d1, members=[users["gw_d1"]]),
        "三队": account_services.team_create(name="三队", area=other_city, members=[users["gw_city2"]]),
    }
    gw, gw_t1, gw_d1, gw_c2 = (users[k] for k in ("grid_worker", "gw_t1", "gw_d1", "gw_city2"))
    campaigns = {
        "A": _campaign("琅琊区行动", d0, users["station_chief"],
                       {0: (None, gw), 1: (teams["一队"], None), 2: (None, gw_t1), 3: (None, gw_t1)}, cells),
        "B": _campaign("南谯区行动", d1, users["city_admin"], {i: (teams["二队"], gw_d1) for i in range(4, 8)}, cells),
        "C": _campaign("邻市行动", other_city, root, {8: (teams["三队"], gw_c2)}, cells),
    }
    rounds = {k: c.rounds.get() for k, c in campaigns.items()}
    holder = {0: gw, 1: users["volunteer"], 2: gw_t1, 3: gw_t1, **{i: gw_d1 for i in range(4, 8)}, 8: gw_c2}
    round_of = {**{i: rounds["A"] for i in range(4)}, **{i: rounds["B"] for i in range(4, 8)}, 8: rounds["C"]}
    for i, cell in enumerate(cells):
        _visit(holder[i], Household.objects.filter(cell=cell).order_by("pk").first(), round_of[i])
    for cell in (cells[0], cells[1], cells[2], cells[4], cells[8]):
        KeyPlace.objects.create(kind=KeyPlaceKind.SCHOOL, name=f"学校{cell.code}", community=cell.community,
                                location=Point(*cell.geom.centroid.coords, srid=4326), size=100)
        HouseholdReport.objects.create(kind="vacant", household=Household.objects.filter(cell=cell).first(),
                                       cell=cell, reported_by=holder[cells.index(cell)],
                                       captured_at=timezone.now(), round=round_of[cells.index(cell)])
    township0 = mc.townships[0]
    reports = {
        "T0": report_services.report_request(user=users["township_staff"], area=township0, campaign=campaigns["A"],
                                             round=rounds["A"]),
        "D1": report_services.report_request(user=users["city_admin"], area=d1, campaign=campaigns["B"],
                                             round=rounds["B"]),
        "other": report_services.report_request(user=root, area=other_city, campaign=campaigns["C"],
                                                round=rounds["C"]),
    }
    # what django-axes keeps about sign-ins (superusers only)
    seen = {"user_agent": "test", "ip_address": "10.0.0.1", "username": "gw", "http_accept": "*/*",
            "path_info": "/admin/login/", "attempt_time": timezone.now()}
    AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**seen)
    AccessFailureLog.objects.create(**seen)
    tokens = {}
    for key, user in users.items():
        if key == "root":
            continue
        tokens[key] = sync_services._device_token_store(user=user, device_id=f"phone-{key}",
                                                        device_name="Redmi 9A").token
    territory = {}
    for role in ROLES:
        user = users[role]
        held = [cells[i] for i in CELLS[role][0]]
        if role in AREA_ROLES:
            territory[role] = Territory(paths=tuple(user.areas.values_list("path", flat=True)))
        else:
            territory[role] = Territory(cells=frozenset(c.code for c in held), cell_paths=tuple(c.path for c in held))
    territory[ANON] = Territory()
    return World(mc=mc, cells=cells, other_city=other_city, users=users, territory=territory, campaigns=campaigns,
                 rounds=rounds, teams=teams, reports={k: Report.objects.get(pk=r.pk) for k, r in reports.items()},
                 tokens=tokens, stations=stations)


__all__ = ["ANON", "AREA_ROLES", "FIELD_ROLES", "ROLES", "Territory", "World", "build_world"]
