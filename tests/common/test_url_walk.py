"""Walk every URL of the URLconf as every role, inside and outside the role's territory, and fail on any leak.

`ROUTES` below is the classification table: every URL pattern Django resolves (API, pages, admin, exports, tiles)
→ what each role may get. A pattern missing from the table fails `test_every_url_pattern_is_classified`, so a new
endpoint cannot ship unclassified; a row whose pattern is gone fails it too. docs/security.md is the same table in
prose, for people.

How to add a row: pick a builder (`api_list`, `api_object`, `page`, `page_object`, `post_only`, ...), say what each
role gets (`access(...)`: the outcome for anonymous, area roles, field roles, or one role), and for anything that
answers 200 with data give a `check` that compares what came back with what the role may see (`Expect`).

Outcomes: "200" (and the check passes), "401", "403", "404", "405", "400", "login" (302 to the login page), "302"
(another redirect; the admin answers an object outside the caller's queryset with a redirect to its index, exactly as
for an object that does not exist).

The expectations of each check (`Expect`) are computed from the territory each user was given (area paths or the
cells a worker holds), not through server/accounts/scoping.py, so a scoping bug shows up as a difference.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import openpyxl
import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from server.accounts.models import Team, User
from server.audit.models import AuditEntry
from server.campaigns.models import AssignmentChange, Campaign, CellAssignment
from server.registry.models import Household, KeyGroup, KeyPlace, Resident
from server.reports.models import Report
from server.sync.models import Device, HouseholdReport
from server.territory.models import Area, GridCell, PoliceStation
from server.visits.models import Visit
from tests.common.url_walk_world import ANON, AREA_ROLES, FIELD_ROLES, ROLES, World, build_world

WALKERS = [ANON, *ROLES]
OK, BAD, UNAUTH, DENY, GONE, NOPE, LOGIN, REDIRECT = "200", "400", "401", "403", "404", "405", "login", "302"
TILE = OK if settings.IS_POSTGIS else "501"  # vector tiles need PostGIS
REASON = {"reason": "预警劝阻，需电话联系户主"}
FULL_PHONE = "13812345678"  # every resident's phone in tests/factories.py


# ------------------------------------------------------------------------------------------------ the world, once


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction that is rolled back at the end; each test runs in a savepoint
    of it (pytest-django's `db`), so what one request writes (audit entries, sessions) never reaches the next test."""
    media = tmp_path_factory.mktemp("media")
    with override_settings(MEDIA_ROOT=str(media), PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        with django_db_blocker.unblock(), transaction.atomic():
            yield build_world()
            transaction.set_rollback(True)


# ------------------------------------------------------------------------------------------------ the table's parts


def access(anon: str, area: str | None = None, field: str | None = None, **roles: str) -> dict[str, str]:
    """role → outcome: `anon` for anonymous, `area` for the four area roles, `field` for grid workers and
    volunteers; keyword arguments named after a role override its group."""
    out = {ANON: anon}
    for role in AREA_ROLES:
        out[role] = area
    for role in FIELD_ROLES:
        out[role] = field
    out.update(roles)
    missing = [r for r in WALKERS if out.get(r) is None]
    assert not missing, f"no outcome for {missing}"
    return out


@dataclass
class Probe:
    label: str
    url: str
    expect: str
    check: Callable | None = None  # (world, role, response) → None; raises AssertionError on a leak
    method: str = "get"
    data: dict | None = None
    token: bool = False  # authenticate with the role's device token instead of its session


Route = Callable[[World, str], list[Probe]]
Side = str  # "in" | "out"


def _probes(*builders: Route) -> Route:
    return lambda w, role: [p for b in builders for p in b(w, role)]


def api_list(url: str, who: dict[str, str], check: Callable | None = None) -> Route:
    return lambda w, role: [Probe("list", url, who[role], check)]


def api_object(url: Callable[[World, str, Side], str], inside: dict[str, str], outside: dict[str, str],
               check: Callable | None = None, **probe) -> Route:
    """An endpoint about one object: asked for the role's object inside its territory and the nearest one outside."""
    return lambda w, role: [Probe("inside", url(w, role, "in"), inside[role], check, **probe),
                            Probe("outside", url(w, role, "out"), outside[role], None, **probe)]


page, page_object = api_list, api_object


def post_only(url: Callable[[World, str], str] | str, anon: str = UNAUTH) -> Route:
    """A POST endpoint (a side effect: not exercised here): GET is refused, after authentication."""
    return lambda w, role: [Probe("GET", url if isinstance(url, str) else url(w, role),
                                  access(anon, NOPE, NOPE)[role])]


def everyone(outcome: str, anon: str | None = None) -> dict[str, str]:
    return access(anon or outcome, outcome, outcome)


# ------------------------------------------------------------------------------------------------ what a role may see


class Expect:
    """What each role may see, from the territory it was given (area paths or held cells), not from scoping.py."""

    @staticmethod
    def cells(w: World, role: str) -> set[str]:
        t = w.territory[role]
        return {c.code for c in GridCell.objects.all() if t.under(c.path)}

    @staticmethod
    def areas(w: World, role: str) -> set[str]:
        t = w.territory[role]
        if role in FIELD_ROLES:  # the communities of their cells
            return set(GridCell.objects.filter(code__in=t.cells).values_list("community__code", flat=True))
        return {a.code for a in Area.objects.all() if t.under(a.path)}

    @staticmethod
    def households(w: World, role: str) -> set[str]:
        t = w.territory[role]
        return {h.register_id for h in Household.objects.select_related("cell", "community")
                if t.under(h.cell.path if h.cell_id else None) or (role in AREA_ROLES and t.under(h.community.path))}

    @staticmethod
    def household_pks(w: World, role: str) -> set[int]:
        ids = Expect.households(w, role)
        return set(Household.objects.filter(register_id__in=ids).values_list("pk", flat=True))

    @staticmethod
    def residents(w: World, role: str) -> set[int]:
        return set(Resident.objects.filter(household__in=Expect.household_pks(w, role)).values_list("pk", flat=True))

    @staticmethod
    def key_places(w: World, role: str) -> set[int]:
        if role not in AREA_ROLES:
            return set()
        t = w.territory[role]
        return {k.pk for k in KeyPlace.objects.select_related("community") if t.under(k.community.path)}

    @staticmethod
    def stations(w: World, role: str) -> set[str]:
        t, user = w.territory[role], w.users[role]
        return {s.code for s in PoliceStation.objects.all()
                if (role in AREA_ROLES and t.under(s.path)) or s.pk == user.police_station_id}

    @staticmethod
    def campaigns(w: World, role: str) -> set[int]:
        """Area roles: campaigns over an area inside their territory or above it. Field roles: campaigns in which
        they (or their team) hold a cell."""
        t, user = w.territory[role], w.users[role]
        out = set()
        for c in Campaign.objects.prefetch_related("areas"):
            paths = [a.path for a in c.areas.all()]
            if role in AREA_ROLES:
                if any(t.under(p) or any(mine.startswith(p) for mine in t.paths) for p in paths):
                    out.add(c.pk)
            elif CellAssignment.objects.filter(round__campaign=c).filter(
                    worker=user).exists() or CellAssignment.objects.filter(
                    round__campaign=c, team__members=user).exists():
                out.add(c.pk)
        return out

    @staticmethod
    def teams(w: World, role: str) -> set[int]:
        if role not in AREA_ROLES:
            return set()
        t = w.territory[role]
        return {team.pk for team in Team.objects.select_related("area") if t.under(team.area.path)}

    @staticmethod
    def users(w: World, role: str) -> set[int]:
        t, me = w.territory[role], w.users[role]
        return {u.pk for u in User.objects.prefetch_related("areas")
                if u.pk == me.pk or (role in AREA_ROLES and any(t.under(a.path) for a in u.areas.all()))}

    @staticmethod
    def reports(w: World, role: str) -> set[int]:
        if role not in AREA_ROLES:
            return set()
        t = w.territory[role]
        return {r.pk for r in Report.objects.select_related("area") if t.under(r.area.path)}

    @staticmethod
    def audit(w: World, role: str) -> set[int]:
        """Administrators: entries about their territory; city administrators also those without one."""
        if role not in ("city_admin", "district_admin"):
            return set()
        t = w.territory[role]
        return {e.pk for e in AuditEntry.objects.all()
                if t.under(e.territory_path) or (role == "city_admin" and not e.territory_path)}

    @staticmethod
    def round_cells(w: World, role: str, key: str = "A") -> set[str]:
        """The cells of a campaign's round the role may see."""
        campaign = w.campaigns[key]
        paths = list(campaign.areas.values_list("path", flat=True))
        return {c for c in Expect.cells(w, role)
                if any(GridCell.objects.get(code=c).path.startswith(p) for p in paths)}


def _same(got, want, what: str) -> None:
    got, want = set(got), set(want)
    leaked, missing = sorted(map(str, got - want)), sorted(map(str, want - got))
    assert not leaked and not missing, f"{what}: outside the territory {leaked}; missing {missing}"


def _features(r) -> list:
    body = r.json()
    assert body.get("count", len(body["features"])) == len(body["features"]), \
        f"count {body.get('count')} ≠ {len(body['features'])} features: the count includes what is not listed"
    return body["features"]


def _results(r) -> list:
    body = r.json()
    if isinstance(body, list):
        return body
    assert body["count"] == len(body["results"]), \
        f"count {body['count']} ≠ {len(body['results'])} rows: the count includes what is not listed"
    return body["results"]


# ---- API checks


def check_areas(w, role, r):
    _same([f["id"] for f in _features(r)], Expect.areas(w, role), "areas")


def check_cells(w, role, r):
    _same([f["id"] for f in _features(r)], Expect.cells(w, role), "cells")


def check_stations(w, role, r):
    _same([f["id"] for f in _features(r)], Expect.stations(w, role), "police stations")


def check_households(w, role, r):
    _same([f["id"] for f in _features(r)], Expect.households(w, role), "households")


def check_residents(w, role, r):
    rows = _results(r)
    _same([x["id"] for x in rows], Expect.residents(w, role), "residents")
    assert FULL_PHONE not in r.content.decode(), "a full phone number in the residents list"


def check_key_places(w, role, r):
    _same([f["id"] for f in _features(r)], Expect.key_places(w, role), "key places")


def check_me(w, role, r):
    assert r.json()["username"] == w.users[role].username


def check_campaigns(w, role, r):
    _same([c["id"] for c in r.json()], Expect.campaigns(w, role), "campaigns")


def check_teams(w, role, r):
    _same([t["id"] for t in r.json()], Expect.teams(w, role), "teams")


def _summary_check(w, role, summary: dict, what: str):
    """A round's counts (API, planner) count only the caller's cells; holders only those of the caller's cells."""
    cells = Expect.round_cells(w, role)
    want = Household.objects.filter(cell__code__in=cells, status="occupied").count()
    assert summary["households"] == want, f"{what}: {summary['households']} households counted, {want} in territory"
    assert summary["cells"] == len(cells), f"{what}: {summary['cells']} cells counted, {len(cells)} in territory"
    holders = CellAssignment.objects.filter(round=w.rounds["A"], cell__code__in=cells)
    labels = {a.team.name if a.team_id else (a.worker.get_full_name() or a.worker.username) for a in holders}
    _same([h["label"] for h in summary["holders"]], labels, f"{what}: holders")


def check_round(w, role, r):
    _summary_check(w, role, r.json()["summary"], "round summary")


def check_round_cells(w, role, r):
    _same([f["id"] if "id" in f else f["properties"]["code"] for f in _features(r)], Expect.round_cells(w, role),
          "round cells")


def check_round_changes(w, role, r):
    cells = Expect.round_cells(w, role)
    want = set(AssignmentChange.objects.filter(round=w.rounds["A"], cell__code__in=cells)
               .values_list("cell__code", flat=True))
    _same([c["cell"] for c in r.json()], want, "assignment changes (cells)")


def check_walk_list(w, role, r):
    _same([x["register_id"] for x in r.json()],
          Household.objects.filter(cell=w.cell(role, "in")).values_list("register_id", flat=True), "walk list")


def check_xlsx(w, role, r):
    assert r.content[:2] == b"PK", "not an XLSX file"


def _coverage_cells(w, role) -> set[str]:
    return Expect.round_cells(w, role)


def check_coverage(w, role, r):
    body = r.json()
    cells = _coverage_cells(w, role)
    _same([row["code"] for row in body["rows"]], cells, "coverage rows (level=cell)")
    total = body["total"]
    # 3 households in every cell, one of them reached (World)
    assert (total["to_visit"], total["reached"], total["cells"]) == (3 * len(cells), len(cells), len(cells)), \
        f"coverage total {total['to_visit']}/{total['reached']}/{total['cells']} ≠ territory " \
        f"{3 * len(cells)}/{len(cells)}/{len(cells)} (to visit/reached/cells)"


def check_coverage_daily(w, role, r):
    cells = _coverage_cells(w, role)
    reached = sum(row["reached_new"] for row in r.json()["rows"])
    assert reached == len(cells), f"daily progress sums {reached} reached, the territory has {len(cells)}"


def check_coverage_teams(w, role, r):
    cells = _coverage_cells(w, role)
    want = set(CellAssignment.objects.filter(round=w.rounds["A"], cell__code__in=cells, team__isnull=False)
               .values_list("team_id", flat=True))
    rows = r.json()["rows"]
    _same([row["team_id"] for row in rows if row["team_id"] is not None], want, "coverage teams")
    counted = (sum(row["cells"] for row in rows), sum(row["reached"] for row in rows))
    assert counted == (len(cells), len(cells)), f"coverage teams count {counted} (cells, reached), the territory " \
        f"{len(cells)}, {len(cells)}"


def check_coverage_workers(w, role, r):
    cells = _coverage_cells(w, role)
    want = set(Visit.objects.filter(round=w.rounds["A"], household__cell__code__in=cells)
               .values_list("worker__username", flat=True))
    _same([row["username"] for row in r.json()["rows"]], want, "coverage workers")


def check_coverage_geojson(w, role, r):
    body = r.json()
    cells = _coverage_cells(w, role)
    _same([f["id"] for f in _features(r)], cells, "coverage GeoJSON features (level=cell)")
    assert body["total"]["to_visit"] == 3 * len(cells), \
        f"coverage GeoJSON total to_visit {body['total']['to_visit']}, the territory {3 * len(cells)}"


def _round_households(w, role) -> set[str]:
    return set(Household.objects.filter(cell__code__in=_coverage_cells(w, role)).values_list("register_id", flat=True))


def check_coverage_households(w, role, r):
    rows = _results(r)
    _same([h["register_id"] for h in rows], _round_households(w, role), "coverage households (state=all)")
    assert FULL_PHONE not in r.content.decode(), "a full phone number in the household list"


def check_coverage_households_xlsx(w, role, r):
    sheet = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).active
    text = repr([list(row) for row in sheet.iter_rows(values_only=True)])
    mine = _round_households(w, role)
    others = set(Household.objects.values_list("register_id", flat=True)) - mine
    leaked = sorted(h for h in others if f"'{h}'" in text)
    missing = sorted(h for h in mine if f"'{h}'" not in text)
    assert not leaked and not missing, f"households XLSX: outside the territory {leaked}; missing {missing}"


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


TILE_Z = 5  # one tile holds both cities (lon 118–119.5, lat 32–32.5)


def _tile_url(w, role, side) -> str:
    x, y = _tile_of(118.5, 32.25, TILE_Z)
    assert _tile_of(119.5, 32.0, TILE_Z) == (x, y) == _tile_of(118.0, 32.5, TILE_Z)
    return f"/tiles/coverage/{TILE_Z}/{x}/{y}.pbf?round={w.round(role, side).pk}"


def check_tile(w, role, r):
    """Each feature carries its cell's code: the caller's cells of the round, none other."""
    import mapbox_vector_tile

    features = mapbox_vector_tile.decode(r.content)["coverage"]["features"] if r.content else []
    _same([f["properties"]["code"] for f in features], _coverage_cells(w, role), "tile features")


def check_coverage_page(w, role, r):
    config = _context(r, "config")
    _same([c["id"] for c in config["campaigns"]], Expect.campaigns(w, role), "coverage map page: campaigns")


def check_reports(w, role, r):
    _same([x["id"] for x in r.json()], Expect.reports(w, role), "reports")


def check_report(w, role, r):
    assert r.json()["id"] == w.report(role, "in").pk


def check_download(w, role, r):
    assert b"".join(r.streaming_content)[:2] == b"PK", "not the report's XLSX file"


def check_audit(w, role, r):
    rows = _results(r)
    _same([e["id"] for e in rows], Expect.audit(w, role), "audit entries")


def _export_rows(r) -> list[list[str]]:
    if r["Content-Type"].startswith("text/csv"):
        return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))[1:]
    sheet = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).active
    return [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]


def check_audit_export(w, role, r):
    rows = _export_rows(r)
    itself = AuditEntry.objects.filter(action="export", actor_username=w.users[role].username).order_by("-pk")[0]
    want = Expect.audit(w, role) - {itself.pk}  # the export records itself after reading the entries
    assert len(rows) == len(want), f"audit export has {len(rows)} rows, the territory {len(want)}"
    codes = {e.territory_code for e in AuditEntry.objects.filter(pk__in=want)}
    outside = {e.territory_code for e in AuditEntry.objects.exclude(pk__in=want)} - codes - {""}
    text = repr(rows)
    assert not [c for c in outside if f"'{c}'" in text], "audit export names territory outside the caller's"


def check_pull(w, role, r):
    changes = r.json()["changes"]
    held = Household.objects.filter(cell__code__in=w.territory[role].cells)
    _same([h["id"] for h in changes.get("households", [])], held.values_list("pk", flat=True), "pulled households")
    _same([c["code"] for c in changes.get("cells", [])], w.territory[role].cells, "pulled cells")


def check_reveal(w, role, r):
    household = w.household(role, "in")
    assert r.json()["household"] == household.register_id and FULL_PHONE in r.content.decode()
    assert r["Cache-Control"] == "no-store"


# ---- page checks (the template context the page was rendered with)


def _context(r, key):
    assert r.context is not None and key in r.context, f"the page has no {key!r} in its context"
    return r.context[key]


def check_planner_campaigns(w, role, r):
    _same([c.pk for c in _context(r, "campaigns")], Expect.campaigns(w, role), "planner campaigns")


def check_planner_campaign(w, role, r):
    for _round, summary in _context(r, "rounds"):
        _summary_check(w, role, summary, "planner campaign page")


def check_planner_round(w, role, r):
    _summary_check(w, role, _context(r, "summary"), "planner round page")
    _same([t.pk for t in _context(r, "teams")], Expect.teams(w, role), "planner round page: teams")


def check_reports_page(w, role, r):
    t = w.territory[role]
    areas = {a.code for a in _context(r, "areas")}
    want = {a.code for a in Area.objects.filter(level__in=["city", "district", "township"]) if t.under(a.path)} \
        if role in AREA_ROLES else set()
    _same(areas, want, "reports page: areas")
    _same([x.pk for x in _context(r, "reports")], Expect.reports(w, role), "reports page: reports")
    _same([c["id"] for c in _context(r, "campaigns")], Expect.campaigns(w, role), "reports page: campaigns")


# ------------------------------------------------------------------------------------------------ the admin


@dataclass(frozen=True)
class AdminModel:
    """A model's admin pages: what each role may do there (view/add/change; nobody but superusers deletes) and,
    for the changelist, which rows it may see and which object stands for "inside" and "outside"."""

    perms: dict[str, str]  # role → letters of "vac" (view, add, change); missing role: no access
    rows: Callable[[World, str], set[int]] | None = None  # the pks the role's changelist must show
    pick: Callable[[World, str, Side], object] | None = None  # an object inside / outside the role's territory
    territorial: bool = True  # False: rows of no territory (groups, key groups, sign-in logs): no "outside"


def _first(qs):
    obj = qs.order_by("pk").first()
    return obj.pk if obj is not None else 999_999


ADMIN = {
    "auth.group": AdminModel({}, pick=lambda w, role, side: _first(Group.objects.all()), territorial=False),
    "territory.area": AdminModel(
        {"city_admin": "vac", "district_admin": "v", "station_chief": "v", "township_staff": "v"},
        rows=lambda w, role: set(Area.objects.filter(code__in=Expect.areas(w, role)).values_list("pk", flat=True)),
        pick=lambda w, role, side: w.cell(role, side).community_id),
    "territory.gridcell": AdminModel(
        {"city_admin": "vac", "district_admin": "vc", "station_chief": "v", "township_staff": "v"},
        rows=lambda w, role: set(GridCell.objects.filter(code__in=Expect.cells(w, role)).values_list("pk", flat=True)),
        pick=lambda w, role, side: w.cell(role, side).pk),
    "territory.policestation": AdminModel(
        {"city_admin": "vac", "district_admin": "v", "station_chief": "v"},
        rows=lambda w, role: set(PoliceStation.objects.filter(code__in=Expect.stations(w, role))
                                 .values_list("pk", flat=True)),
        pick=lambda w, role, side: w.station(role, side).pk),
    "accounts.user": AdminModel(
        {"city_admin": "vac", "district_admin": "v", "station_chief": "v"},
        rows=Expect.users, pick=lambda w, role, side: w.user_of(role, side).pk),
    "accounts.team": AdminModel(
        {"city_admin": "vac", "district_admin": "vac", "station_chief": "vac"},
        rows=Expect.teams, pick=lambda w, role, side: w.team(role, side).pk),
    "registry.household": AdminModel(
        {"city_admin": "vac", "district_admin": "vac", "station_chief": "v", "township_staff": "vac"},
        rows=Expect.household_pks, pick=lambda w, role, side: w.household(role, side).pk),
    "registry.resident": AdminModel(
        {"city_admin": "vac", "district_admin": "vac", "station_chief": "v", "township_staff": "vac"},
        rows=Expect.residents, pick=lambda w, role, side: w.household(role, side).residents.first().pk),
    "registry.keygroup": AdminModel({"city_admin": "vac"},  # the list of key groups: no territory
                                    pick=lambda w, role, side: _first(KeyGroup.objects.all()), territorial=False),
    "registry.keyplace": AdminModel(
        {"city_admin": "vac", "district_admin": "vac", "station_chief": "v", "township_staff": "v"},
        rows=Expect.key_places,
        pick=lambda w, role, side: _first(KeyPlace.objects.filter(community=w.cell(role, side).community))),
    # Campaigns, assignments, visits, household reports and reports are worked on in the planner, the reports page
    # and the API; their admin pages are for superusers (and scoped all the same).
    "campaigns.campaign": AdminModel({}, pick=lambda w, role, side: w.campaign(role, side).pk),
    "campaigns.cellassignment": AdminModel(
        {}, pick=lambda w, role, side: _first(CellAssignment.objects.filter(cell=w.cell(role, side)))),
    "campaigns.assignmentchange": AdminModel(
        {}, pick=lambda w, role, side: _first(AssignmentChange.objects.filter(cell=w.cell(role, side)))),
    "visits.visit": AdminModel({}, pick=lambda w, role, side: _first(Visit.objects.filter(
        household__cell=w.cell(role, side)))),
    # Devices: administrators revoke lost phones (docs/privacy.md §8), for the accounts of their territory.
    "sync.device": AdminModel(
        {"city_admin": "vc", "district_admin": "vc"},
        rows=lambda w, role: set(Device.objects.filter(user__in=Expect.users(w, role)).values_list("pk", flat=True)),
        pick=lambda w, role, side: _first(Device.objects.filter(user=w.user_of(role, side)))),
    "sync.householdreport": AdminModel(
        {}, pick=lambda w, role, side: _first(HouseholdReport.objects.filter(cell=w.cell(role, side)))),
    "reports.report": AdminModel({}, pick=lambda w, role, side: w.report(role, side).pk),
    "audit.auditentry": AdminModel(
        {"city_admin": "v", "district_admin": "v"}, rows=Expect.audit,
        pick=lambda w, role, side: _first(AuditEntry.objects.filter(territory_code=w.cell(role, side).code))),
    # who tried to sign in, from where: superusers only
    "axes.accessattempt": AdminModel({}, pick=lambda w, r, s: _first(AccessAttempt.objects.all()), territorial=False),
    "axes.accesslog": AdminModel({}, pick=lambda w, r, s: _first(AccessLog.objects.all()), territorial=False),
    "axes.accessfailurelog": AdminModel({}, pick=lambda w, r, s: _first(AccessFailureLog.objects.all()),
                                        territorial=False),
}


def _admin_rows_check(label: str):
    spec = ADMIN[label]

    def check(w, role, r):
        cl = _context(r, "cl")
        want = spec.rows(w, role)
        assert cl.full_result_count == len(want), \
            f"admin {label}: the changelist counts {cl.full_result_count} rows, the territory has {len(want)}"
        _same([obj.pk for obj in cl.result_list], want, f"admin {label} changelist")

    return check


def _choices(w: World, role: str) -> dict:
    """model → the pks a form may offer the role (a select, a filter box, an autocomplete's accepted values)."""
    return {Area: ADMIN["territory.area"].rows, GridCell: ADMIN["territory.gridcell"].rows,
            PoliceStation: ADMIN["territory.policestation"].rows, User: Expect.users, Team: Expect.teams,
            Household: Expect.household_pks}


def check_admin_form(w, role, r):
    """An add or change form offers (and accepts) only objects of the caller's territory in its choice fields."""
    forms = [_context(r, "adminform").form]
    forms += [f for inline in r.context.get("inline_admin_formsets", []) for f in inline.formset.forms]
    leaks = []
    for form in forms:
        for name, field in form.fields.items():
            qs = getattr(field, "queryset", None)
            allowed = _choices(w, role).get(getattr(qs, "model", None))
            if allowed is not None and (leaked := set(qs.values_list("pk", flat=True)) - allowed(w, role)):
                leaks.append(f"{name!r} offers {qs.model.__name__} {sorted(leaked)}")
    assert not leaks, f"form fields offer objects outside the territory: {'; '.join(leaks)}"


def _perm(label: str, role: str, letters: str) -> bool:
    return any(x in ADMIN[label].perms.get(role, "") for x in letters)


def admin_model_routes(label: str) -> dict[str, Route]:
    """The six URL patterns the admin makes for a model, classified from ADMIN[label]."""
    app, model = label.split(".")
    base = f"admin/{app}/{model}/"
    spec = ADMIN[label]

    def obj(w, role, side):
        return spec.pick(w, role, side) if spec.pick else 999_999

    def staff(outcome_if: Callable[[str], str]) -> dict[str, str]:
        return access(LOGIN, field=LOGIN, **{r: outcome_if(r) for r in AREA_ROLES})

    may_view = staff(lambda r: OK if _perm(label, r, "vc") else DENY)
    may_add = staff(lambda r: OK if _perm(label, r, "a") else DENY)
    # An object outside the caller's queryset is answered like one that does not exist: the change and history
    # pages redirect to the admin index; without any permission on the model the change page is 403 either way.
    outside_change = staff(lambda r: REDIRECT if _perm(label, r, "vc") else DENY)
    check = _admin_rows_check(label) if spec.rows else None

    def history(w, role):
        """With view permission: the history of an object inside; one outside is "does not exist". Without: 403
        for an object of the caller's queryset, "does not exist" for any other."""
        def expect(side):
            if role not in AREA_ROLES:
                return LOGIN
            if _perm(label, role, "vc"):
                return OK if side == "in" else REDIRECT
            in_queryset = side == "in" and (spec.rows is None or obj(w, role, "in") in spec.rows(w, role))
            return DENY if in_queryset else REDIRECT
        return [Probe(side, f"/{base}{obj(w, role, side)}/history/", expect(side)) for side in sides]

    sides = ("in", "out") if spec.territorial else ("in",)

    def page_object(url, inside, outside, check=None):
        route = api_object(url, inside, outside, check)
        return route if spec.territorial else (lambda w, role: route(w, role)[:1])

    return {
        base: page(f"/{base}", may_view, check),
        f"{base}add/": page(f"/{base}add/", may_add, check_admin_form),
        f"{base}<path:object_id>/history/": history,
        f"{base}<path:object_id>/delete/": page_object(lambda w, r, s: f"/{base}{obj(w, r, s)}/delete/",
                                                       staff(lambda r: DENY), staff(lambda r: DENY)),
        f"{base}<path:object_id>/change/": page_object(lambda w, r, s: f"/{base}{obj(w, r, s)}/change/",
                                                       may_view, outside_change, check_admin_form),
        # the bare object URL redirects to its change page (which then decides)
        f"{base}<path:object_id>/": page_object(lambda w, r, s: f"/{base}{obj(w, r, s)}/",
                                                staff(lambda r: REDIRECT), staff(lambda r: REDIRECT)),
    }


ADMIN_APPS = sorted({label.split(".")[0] for label in ADMIN})


def check_admin_index(w, role, r):
    shown = {f"{a['app_label']}.{m['object_name'].lower()}" for a in _context(r, "app_list") for m in a["models"]}
    _same(shown, {label for label in ADMIN if ADMIN[label].perms.get(role)}, "admin index: models")


def admin_app_lists(w, role) -> list[Probe]:
    probes = []
    for app in ADMIN_APPS:
        any_model = any(ADMIN[label].perms.get(role) for label in ADMIN if label.startswith(f"{app}."))
        who = access(LOGIN, field=LOGIN, **{r: (OK if r == role and any_model else GONE) for r in AREA_ROLES})
        probes.append(Probe(f"app {app}", f"/admin/{app}/", who[role]))
    return probes


def check_autocomplete_cells(w, role, r):
    _same([int(x["id"]) for x in r.json()["results"]],
          GridCell.objects.filter(code__in=Expect.cells(w, role)).values_list("pk", flat=True), "autocomplete cells")


def check_autocomplete_users(w, role, r):
    _same([int(x["id"]) for x in r.json()["results"]], Expect.users(w, role), "autocomplete users")


def admin_autocomplete(w, role) -> list[Probe]:
    """Autocomplete answers from the related model's admin queryset: cells for a household, users for a cell."""
    staff_view = access(LOGIN, OK, LOGIN)
    users = access(LOGIN, field=LOGIN, city_admin=OK, district_admin=OK, station_chief=OK, township_staff=DENY)
    return [
        Probe("cells", "/admin/autocomplete/?app_label=registry&model_name=household&field_name=cell&term=",
              staff_view[role], check_autocomplete_cells),
        Probe("users", "/admin/autocomplete/?app_label=territory&model_name=gridcell&field_name=worker&term=",
              users[role], check_autocomplete_users),
        Probe("no parameters", "/admin/autocomplete/", access(LOGIN, DENY, LOGIN)[role]),
    ]


def _view_on_site(w, role, side):
    ct = ContentType.objects.get_for_model(Household)
    return f"/admin/r/{ct.pk}/{w.household(role, side).pk}/"


# ------------------------------------------------------------------------------------------------ the table

# API objects per role: the role's own object inside its territory, and the nearest one outside (World).
SIGNED_IN = access(UNAUTH, OK, OK)
AREA_ONLY = access(UNAUTH, OK, GONE)  # field roles: as if it did not exist
ADMINS = access(UNAUTH, DENY, DENY, city_admin=OK, district_admin=OK)  # the audit trail
PLANNERS = access(LOGIN, DENY, DENY, city_admin=OK, district_admin=OK, station_chief=OK)
STAFF = access(LOGIN, OK, LOGIN)  # admin pages any staff account may open


def _round_url(suffix: str = ""):
    return lambda w, role, side: f"/api/v1/rounds/{w.round(role, side).pk}{suffix}"


def _cell_in_round(path: str):
    """(round A1, a cell) → inside: the role's cell; outside: the nearest cell outside its territory."""
    return lambda w, role, side: f"/api/v1/rounds/{w.rounds['A'].pk}/cells/{w.cell(role, side).code}/{path}"


def _outside_round(path: str, expect: dict):
    """The role's own cell, asked through a round of a campaign outside its territory: 404."""
    return lambda w, role: [Probe("outside round", f"/api/v1/rounds/{w.round(role, 'out').pk}/cells/"
                                  f"{w.cell(role, 'in').code}/{path}", expect[role])]


def _area_outside(path: str, query: str = ""):
    """Round A1, narrowed to the nearest cell outside the caller's territory: 400 ("no area … in your territory")."""
    return lambda w, role: [Probe("area outside", f"/api/v1/coverage{path}?round={w.rounds['A'].pk}{query}"
                                  f"&area={w.cell(role, 'out').code}", access(UNAUTH, BAD, BAD)[role])]


def _coverage(path: str, check):
    return _probes(
        api_object(lambda w, role, side: f"/api/v1/coverage{path}?round={w.round(role, side).pk}&level=cell",
                   SIGNED_IN, access(UNAUTH, BAD, BAD), check),
        _area_outside(path, "&level=cell"))


ROUTES: dict[str, Route] = {
    # ---- pages
    "": page("/", everyone(REDIRECT)),
    "i18n/setlang/": page("/i18n/setlang/", everyone(REDIRECT)),  # sets the language on POST; GET redirects
    "plan/": page("/plan/", PLANNERS, check_planner_campaigns),
    "plan/campaigns/<int:pk>/": page_object(lambda w, role, side: f"/plan/campaigns/{w.campaign(role, side).pk}/",
                                            PLANNERS, access(LOGIN, DENY, DENY, city_admin=GONE,
                                                             district_admin=GONE, station_chief=GONE),
                                            check_planner_campaign),
    "plan/rounds/<int:pk>/": page_object(lambda w, role, side: f"/plan/rounds/{w.round(role, side).pk}/",
                                         PLANNERS, access(LOGIN, DENY, DENY, city_admin=GONE,
                                                          district_admin=GONE, station_chief=GONE),
                                         check_planner_round),
    "plan/rounds/<int:pk>/<str:action>": post_only(lambda w, role: f"/plan/rounds/{w.rounds['A'].pk}/open",
                                                   anon=LOGIN),
    "reports/": page("/reports/", access(LOGIN, OK, OK), check_reports_page),
    # ---- the API's description: public (no data in it)
    "api/schema/": page("/api/schema/", everyone(OK)),
    "api/docs/": page("/api/docs/", everyone(OK)),
    "api/redoc/": page("/api/redoc/", everyone(OK)),
    # ---- for load balancers: public, says only whether the database and broker answer
    "api/v1/health": page("/api/v1/health", everyone(OK), lambda w, role, r: _same(
        r.json(), {"status", "database", "broker"}, "health answer's keys")),
    # ---- territory and register
    "api/v1/areas": api_list("/api/v1/areas?page_size=2000", SIGNED_IN, check_areas),
    "api/v1/cells": api_list("/api/v1/cells?page_size=2000", SIGNED_IN, check_cells),
    "api/v1/police-stations": api_list("/api/v1/police-stations?page_size=2000", SIGNED_IN, check_stations),
    "api/v1/households": api_list("/api/v1/households?page_size=2000", SIGNED_IN, check_households),
    "api/v1/households/<int:pk>/reveal-phone": _probes(
        api_object(lambda w, role, side: f"/api/v1/households/{w.household(role, side).pk}/reveal-phone",
                   access(UNAUTH, DENY, DENY, station_chief=OK, grid_worker=OK), access(UNAUTH, GONE, GONE),
                   check_reveal, method="post", data=REASON),
        post_only(lambda w, role: f"/api/v1/households/{w.household(role, 'in').pk}/reveal-phone")),
    "api/v1/residents": api_list("/api/v1/residents?limit=1000", SIGNED_IN, check_residents),
    "api/v1/key-places": api_list("/api/v1/key-places?page_size=2000", SIGNED_IN, check_key_places),
    "api/v1/me": api_list("/api/v1/me", SIGNED_IN, check_me),
    # ---- campaigns, rounds, cells, walk lists and sheets
    "api/v1/campaigns": api_list("/api/v1/campaigns", SIGNED_IN, check_campaigns),
    "api/v1/campaigns/<int:pk>": api_object(lambda w, role, side: f"/api/v1/campaigns/{w.campaign(role, side).pk}",
                                            SIGNED_IN, access(UNAUTH, GONE, GONE)),
    "api/v1/campaigns/<int:pk>/rounds": post_only(lambda w, role: f"/api/v1/campaigns/{w.campaigns['A'].pk}/rounds"),
    "api/v1/rounds/<int:pk>": api_object(_round_url(), SIGNED_IN, access(UNAUTH, GONE, GONE), check_round),
    "api/v1/rounds/<int:pk>/open": post_only(lambda w, role: f"/api/v1/rounds/{w.rounds['A'].pk}/open"),
    "api/v1/rounds/<int:pk>/close": post_only(lambda w, role: f"/api/v1/rounds/{w.rounds['A'].pk}/close"),
    "api/v1/rounds/<int:pk>/cells": api_object(_round_url("/cells"), SIGNED_IN, access(UNAUTH, GONE, GONE),
                                               check_round_cells),
    "api/v1/rounds/<int:pk>/assignments": post_only(lambda w, role: f"/api/v1/rounds/{w.rounds['A'].pk}/assignments"),
    "api/v1/rounds/<int:pk>/auto-assign": post_only(lambda w, role: f"/api/v1/rounds/{w.rounds['A'].pk}/auto-assign"),
    "api/v1/rounds/<int:pk>/claims": post_only(lambda w, role: f"/api/v1/rounds/{w.rounds['A'].pk}/claims"),
    "api/v1/rounds/<int:pk>/changes": api_object(_round_url("/changes"), SIGNED_IN, access(UNAUTH, GONE, GONE),
                                                 check_round_changes),
    # a cell outside the caller's territory: 400 unknown_cell ("does not exist or is outside your territory")
    "api/v1/rounds/<int:pk>/cells/<str:code>/walk-list": _probes(
        api_object(_cell_in_round("walk-list"), SIGNED_IN, access(UNAUTH, BAD, BAD), check_walk_list),
        _outside_round("walk-list", access(UNAUTH, GONE, GONE))),
    "api/v1/rounds/<int:pk>/cells/<str:code>/walk-sheet.<str:fmt>": _probes(
        api_object(_cell_in_round("walk-sheet.xlsx"), SIGNED_IN, access(UNAUTH, BAD, BAD), check_xlsx),
        _outside_round("walk-sheet.xlsx", access(UNAUTH, GONE, GONE)),
        lambda w, role: [Probe("bad format", f"/api/v1/rounds/{w.rounds['A'].pk}/cells/{w.cell(role, 'in').code}/"
                               "walk-sheet.json", access(UNAUTH, BAD, BAD)[role])]),
    "api/v1/rounds/<int:pk>/walk-sheets": post_only(lambda w, role: f"/api/v1/rounds/{w.rounds['A'].pk}/walk-sheets"),
    "api/v1/teams": api_list("/api/v1/teams", SIGNED_IN, check_teams),
    # ---- coverage: round A1 (inside for every role) and the round of a campaign outside (400: "no round 12 in
    # your territory"); the counts are those of the caller's cells only
    "api/v1/coverage": _coverage("", check_coverage),
    "api/v1/coverage/daily": _coverage("/daily", check_coverage_daily),
    "api/v1/coverage/teams": _coverage("/teams", check_coverage_teams),
    "api/v1/coverage/workers": _coverage("/workers", check_coverage_workers),
    "api/v1/coverage/geojson": _coverage("/geojson", check_coverage_geojson),
    "api/v1/coverage/households": _probes(api_object(
        lambda w, role, side: f"/api/v1/coverage/households?round={w.round(role, side).pk}&state=all&limit=2000",
        SIGNED_IN, access(UNAUTH, BAD, BAD), check_coverage_households), _area_outside("/households", "&state=all")),
    "api/v1/coverage/households.xlsx": _probes(api_object(  # an export: audited
        lambda w, role, side: f"/api/v1/coverage/households.xlsx?round={w.round(role, side).pk}&state=all",
        SIGNED_IN, access(UNAUTH, BAD, BAD), check_coverage_households_xlsx),
        _area_outside("/households.xlsx", "&state=all")),
    "coverage/": page("/coverage/", access(LOGIN, OK, OK), check_coverage_page),
    # vector tiles (PostGIS; SpatiaLite answers 501 "use the GeoJSON"): the caller's cells only
    "tiles/coverage/<int:z>/<int:x>/<int:y>.pbf": api_object(
        _tile_url, access(UNAUTH, TILE, TILE), access(UNAUTH, BAD, BAD), check_tile),
    # ---- sync and devices (token authentication)
    "api/v1/auth/device": post_only("/api/v1/auth/device", anon=NOPE),
    # only a revoked device's own token confirms a wipe: none → 401 token_invalid, a live one → 400 not_revoked
    "api/v1/auth/device/wiped": _probes(post_only("/api/v1/auth/device/wiped", anon=NOPE), lambda w, role: [
        Probe("POST, live token", "/api/v1/auth/device/wiped", access(UNAUTH, BAD, BAD)[role], method="post",
              token=True, data={"discarded": {"visits": 0, "household_reports": 0, "claims": 0}})]),
    "api/v1/sync/pull": lambda w, role: [
        Probe("device token", "/api/v1/sync/pull?cursor=&limit=1000", SIGNED_IN[role], check_pull, token=True),
        Probe("session", "/api/v1/sync/pull?cursor=&limit=1000", access(UNAUTH, BAD, BAD)[role]),  # device_required
    ],
    "api/v1/sync/push": post_only("/api/v1/sync/push"),
    # ---- reports (area roles; field roles see none)
    "api/v1/reports": api_list("/api/v1/reports", SIGNED_IN, check_reports),
    "api/v1/reports/<int:pk>": api_object(lambda w, role, side: f"/api/v1/reports/{w.report(role, side).pk}",
                                          AREA_ONLY, access(UNAUTH, GONE, GONE), check_report),
    "api/v1/reports/<int:pk>/download": api_object(
        lambda w, role, side: f"/api/v1/reports/{w.report(role, side).pk}/download", AREA_ONLY,
        access(UNAUTH, GONE, GONE), check_download),
    # ---- the audit trail (city and district administrators)
    "api/v1/audit": api_list("/api/v1/audit?limit=1000", ADMINS, check_audit),
    "api/v1/audit/export.<str:fmt>": lambda w, role: [
        Probe("csv", "/api/v1/audit/export.csv", ADMINS[role], check_audit_export),
        Probe("xlsx", "/api/v1/audit/export.xlsx", ADMINS[role], check_audit_export),
        Probe("bad format", "/api/v1/audit/export.json", access(UNAUTH, DENY, DENY, city_admin=BAD,
                                                                district_admin=BAD)[role]),
    ],
    # ---- the admin site (staff = the four area roles; field roles are sent to the login page)
    "admin/": page("/admin/", STAFF, check_admin_index),
    "admin/login/": page("/admin/login/", access(OK, REDIRECT, OK)),  # staff already signed in: to the index
    "admin/logout/": page("/admin/logout/", access(REDIRECT, NOPE, REDIRECT)),  # POST only
    "admin/password_change/": page("/admin/password_change/", STAFF),
    "admin/password_change/done/": page("/admin/password_change/done/", STAFF),
    "admin/autocomplete/": admin_autocomplete,
    "admin/jsi18n/": page("/admin/jsi18n/", STAFF),
    "admin/r/<path:content_type_id>/<path:object_id>/": page_object(
        _view_on_site, access(LOGIN, GONE, LOGIN), access(LOGIN, GONE, LOGIN)),  # no model has a site URL
    "admin/<app_label>/": admin_app_lists,
    "admin/(?P<url>.*)$": page("/admin/no-such-page/", access(LOGIN, GONE, LOGIN)),
    "admin/audit/auditentry/export/<str:fmt>/": lambda w, role: [
        Probe("csv", "/admin/audit/auditentry/export/csv/", access(LOGIN, DENY, LOGIN, city_admin=OK,
                                                                   district_admin=OK)[role], check_audit_export),
        Probe("bad format", "/admin/audit/auditentry/export/json/", access(LOGIN, DENY, LOGIN, city_admin=BAD,
                                                                           district_admin=BAD)[role]),
    ],
}
for _label in ADMIN:
    ROUTES.update(admin_model_routes(_label))
# Setting another account's password: city administrators, for the accounts of their territory.
ROUTES["admin/accounts/user/<id>/password/"] = page_object(
    lambda w, role, side: f"/admin/accounts/user/{w.user_of(role, side).pk}/password/",
    access(LOGIN, DENY, LOGIN, city_admin=OK), access(LOGIN, DENY, LOGIN, city_admin=GONE))


# ------------------------------------------------------------------------------------------------ the walk


def url_patterns(resolver=None, prefix: str = "") -> list[str]:
    """Every pattern of the URLconf as one route string (included URLconfs joined), recursively."""
    out = []
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            out += url_patterns(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            if p.name == "app_list":  # one regex over every app with admin pages: walked app by app
                route = "admin/<app_label>/"
            out.append(route)
    return out


def test_every_url_pattern_is_classified():
    patterns = url_patterns()
    unclassified = sorted(set(patterns) - set(ROUTES))
    assert not unclassified, ("URL patterns missing from ROUTES in tests/common/test_url_walk.py (say what every "
                              f"role may get, and add them to docs/security.md): {unclassified}")
    stale = sorted(set(ROUTES) - set(patterns))
    assert not stale, f"ROUTES rows whose URL pattern is gone: {stale}"


def test_every_admin_model_and_app_is_classified():
    from django.contrib import admin

    registered = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}
    assert registered == set(ADMIN), f"admin models not in ADMIN: {sorted(registered - set(ADMIN))}"
    regex = next(p for p in get_resolver().url_patterns if str(p.pattern) == "admin/")
    app_list = next(p for p in regex.url_patterns if getattr(p, "name", None) == "app_list")
    apps = set(re.search(r"\(\?P<app_label>([^)]*)\)", str(app_list.pattern)).group(1).split("|"))
    assert apps == set(ADMIN_APPS)


def _client(w: World, role: str, token: bool) -> Client:
    if token:
        return Client(raise_request_exception=False, **({"HTTP_AUTHORIZATION": f"Token {w.tokens[role]}"}
                                                         if role != ANON else {}))
    client = Client(raise_request_exception=False)
    if role != ANON:
        client.force_login(w.users[role])
    return client


def _text(r) -> str:
    if getattr(r, "streaming", False):
        return "(a file)"
    text = re.sub(r"<[^>]+>|\s+", " ", r.content[:2000].decode(errors="replace"))
    return text.strip()[:160]


def _outcome(r) -> str:
    if r.status_code in (301, 302):
        return LOGIN if urlsplit(r["Location"]).path in ("/admin/login/",) else REDIRECT
    return str(r.status_code)


@pytest.mark.parametrize("role", WALKERS)
def test_walk_every_url_as(role, world, db):
    """Every URL as this role: the expected answer for objects inside and outside its territory, and lists,
    counts, exports and pages holding nothing from outside it."""
    session, device = _client(world, role, False), _client(world, role, True)
    problems = []
    for route, build in ROUTES.items():
        for probe in build(world, role):
            client = device if probe.token else session
            if probe.method == "post":
                r = client.post(probe.url, probe.data or {}, content_type="application/json")
            else:
                r = client.get(probe.url)
            got = _outcome(r)
            where = f"{probe.method.upper()} {probe.url} [{route} · {probe.label}]"
            if got != probe.expect:
                detail = r["Location"] if got in (LOGIN, REDIRECT) else _text(r)
                problems.append(f"{where}: expected {probe.expect}, got {got} {detail}")
            elif got == OK and probe.check is not None:
                try:
                    probe.check(world, role, r)
                except Exception as e:  # noqa: BLE001 - every failed check is one line of the report
                    problems.append(f"{where}: {type(e).__name__ if not isinstance(e, AssertionError) else ''} {e}")
    assert not problems, f"{role}: {len(problems)} problem(s)\n" + "\n".join(problems)


def test_the_world_has_something_outside_every_territory(world, db):
    """Without objects outside each territory the walk could not fail: check there are some of every kind."""
    for role in ROLES:
        assert Expect.cells(world, role) < set(GridCell.objects.values_list("code", flat=True)), role
        assert Expect.households(world, role) < set(Household.objects.values_list("register_id", flat=True)), role
        assert Expect.campaigns(world, role) < set(Campaign.objects.values_list("pk", flat=True)), role
        assert Expect.users(world, role) < set(User.objects.values_list("pk", flat=True)), role
    for role in ("city_admin", "district_admin"):
        assert Expect.audit(world, role) < set(AuditEntry.objects.values_list("pk", flat=True)), role
    assert Expect.reports(world, "city_admin") < set(Report.objects.values_list("pk", flat=True))


def test_a_worker_claims_cells_only_of_campaigns_where_they_work(world, db):
    """A claim would make the cell's households (and their phones, for a grid worker) the claimer's: a worker of
    another district or city is refused, before being told who holds the cell or whether the round is open."""
    from server.campaigns import services as campaign_services

    round, cell = world.rounds["A"], world.cells[3]  # district 341102, township 2
    campaign_services.cell_assign(round=round, cell=cell, user=world.users["root"], reason="收回 take back")
    for outsider in ("gw_d1", "gw_city2"):
        client = _client(world, outsider, False)
        r = client.post(f"/api/v1/rounds/{round.pk}/claims", {"cell": cell.code}, content_type="application/json")
        assert r.status_code == 400 and r.json()["code"] == "outside_territory", r.content
        assert not CellAssignment.objects.filter(round=round, cell=cell).exists()
        households = client.get(f"/api/v1/households?cell={cell.code}").json()["features"]
        assert households == []
    pushed = _client(world, "gw_city2", True).post("/api/v1/sync/push", {
        "visits": [], "household_reports": [],
        "claims": [{"id": "6f1c1f9e-2b57-4a77-9a39-3d4f3c0b2a11", "round": round.pk, "cell": cell.pk}]},
        content_type="application/json")
    assert [(x["status"], x["code"]) for x in pushed.json()["results"]] == [("rejected", "outside_territory")]
    # a worker of the district claims it (any cell of the campaign's scope)
    r = _client(world, "grid_worker", False).post(f"/api/v1/rounds/{round.pk}/claims", {"cell": cell.code},
                                                  content_type="application/json")
    assert r.status_code == 201 and r.json()["worker"] == "gw"
