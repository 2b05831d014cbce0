"""`manage.py seed_demo`: the synthetic Chuzhou is complete, consistent, private and reproducible."""

from __future__ import annotations

import hashlib
import random
import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import Count, F
from django.test import Client

from server.accounts.models import Role, Team, User
from server.common.demo.geography import DISTRICTS, REFERENCE_YEAR
from server.common.demo.plan import city_plan
from server.common.pii import id_number_is_valid, phone_decrypt
from server.registry.models import Household, HouseholdStatus, KeyPlace, Resident
from server.registry.services import household_cells_assign
from server.territory.models import Area, AreaLevel, GridCell, PoliceStation

SMALL = 2000
COUNTY_LEVEL = {
    "341102": "琅琊区", "341103": "南谯区", "341181": "天长市", "341182": "明光市", "341124": "全椒县",
    "341122": "来安县", "341125": "定远县", "341126": "凤阳县", "341171": "经开区",
}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args: str, households: int = SMALL, seed_value: int = 7) -> str:
    out = StringIO()
    call_command("seed_demo", "--households", str(households), "--seed", str(seed_value), *args,
                 verbosity=0, stdout=out)
    return out.getvalue()


def digest() -> str:
    """Everything a user sees of the demo city, without database ids, timestamps or ciphertexts."""
    h = hashlib.sha256()
    for row in Area.objects.order_by("code").values_list("code", "name", "level", "path", "geom"):
        h.update(repr(row[:4] + (row[4].wkt,)).encode())
    for row in GridCell.objects.order_by("code").values_list("code", "name", "community__code", "geom"):
        h.update(repr(row[:3] + (row[3].wkt,)).encode())
    for row in PoliceStation.objects.order_by("code").values_list("code", "name", "district__code", "geom"):
        h.update(repr(row[:3] + (row[3].wkt,)).encode())
    for row in Household.objects.order_by("register_id").values_list(
        "register_id", "cell__code", "address", "floor", "room", "status", "size", "location"
    ):
        h.update(repr(row[:7] + (round(row[7].x, 6), round(row[7].y, 6))).encode())
    for row in Resident.objects.order_by("household__register_id", "id_hash").values_list(
        "household__register_id", "name", "sex", "birth_year", "phone_masked", "id_hash", "id_last4"
    ):
        h.update(repr(row).encode())
    for row in Resident.key_groups.through.objects.order_by("resident__id_hash", "keygroup__code").values_list(
        "resident__id_hash", "keygroup__code"
    ):
        h.update(repr(row).encode())
    for row in KeyPlace.objects.order_by("name").values_list("name", "kind", "address", "size", "location"):
        h.update(repr(row[:4] + (row[4].wkt,)).encode())
    return h.hexdigest()


@pytest.mark.django_db
def test_county_level_areas_and_named_places():
    seed()
    city = Area.objects.get(code="341100")
    assert city.name == "滁州市" and city.level == AreaLevel.CITY
    districts = {a.code: a for a in Area.objects.filter(level=AreaLevel.DISTRICT)}
    assert {code: a.name for code, a in districts.items()} == COUNTY_LEVEL
    assert all(a.parent_id == city.pk for a in districts.values())

    def place(name: str, level: str) -> Area:
        return Area.objects.get(name=name, level=level)

    assert place("清流街道", AreaLevel.TOWNSHIP).parent.name == "琅琊区"
    assert place("丰乐街道", AreaLevel.TOWNSHIP).parent.name == "琅琊区"
    assert place("腰铺镇", AreaLevel.TOWNSHIP).parent.name == "南谯区"
    assert place("府城镇", AreaLevel.TOWNSHIP).parent.name == "凤阳县"
    assert place("向桥社区", AreaLevel.COMMUNITY).parent.name == "清流街道"
    assert place("凤凰湖社区", AreaLevel.COMMUNITY).parent.name == "清流街道"
    assert place("梅铺社区", AreaLevel.COMMUNITY).parent.name == "腰铺镇"
    for station in ("丰乐派出所", "清流派出所"):
        assert PoliceStation.objects.get(name=station).district.name == "琅琊区"
    assert not Area.objects.filter(level=AreaLevel.DISTRICT, police_stations=None).exists()

    lon0, lat0, lon1, lat1 = settings.QIAOMEN_CITY_BBOX
    for obj in [*Area.objects.all(), *GridCell.objects.all(), *PoliceStation.objects.all()]:
        assert obj.geom.valid, (obj, obj.geom.valid_reason)
    for area in Area.objects.all():
        x0, y0, x1, y1 = area.geom.extent
        assert lon0 <= x0 < x1 <= lon1 and lat0 <= y0 < y1 <= lat1, area
    boxes = [a.geom for a in districts.values()]
    assert not any(a.intersection(b).area > 0 for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    for level, parent_level in ((AreaLevel.TOWNSHIP, "district"), (AreaLevel.COMMUNITY, "township")):
        assert Area.objects.filter(level=level, parent__level=parent_level).count() == \
            Area.objects.filter(level=level).count()
        assert not Area.objects.filter(level=level).exclude(parent__geom__contains=F("geom")).exists()


@pytest.mark.django_db
def test_households_lie_in_their_cells_and_cells_tile_communities():
    seed()
    households = Household.objects.all()
    assert households.count() == SMALL and not households.filter(cell=None).exists()
    assert not households.exclude(cell__geom__contains=F("location")).exists()
    assert not households.exclude(cell__community=F("community")).exists()
    cells = list(GridCell.objects.all())
    assert not GridCell.objects.exclude(community__geom__contains=F("geom")).exists()
    for cell in cells:
        assert not GridCell.objects.exclude(pk=cell.pk).filter(geom__relate=(cell.geom, "T********")).exists(), cell
    # The register's own point-in-polygon service files every household exactly where the generator did.
    before = dict(households.values_list("id", "cell_id"))
    household_cells_assign()
    assert dict(Household.objects.values_list("id", "cell_id")) == before


@pytest.mark.django_db
def test_register_is_realistic_and_keeps_no_clear_identity():
    seed()
    residents = Resident.objects.all()
    n = residents.count()
    elderly = residents.filter(birth_year__lte=REFERENCE_YEAR - 60).count()
    assert 0.15 <= elderly / n <= 0.25
    households = Household.objects.annotate(n=Count("residents"))
    assert not households.exclude(n=F("size")).exists()
    assert set(households.values_list("size", flat=True)) == {1, 2, 3, 4, 5}
    vacant = Household.objects.filter(status=HouseholdStatus.VACANT).count() / SMALL
    demolished = Household.objects.filter(status=HouseholdStatus.DEMOLISHED).count() / SMALL
    assert 0.02 <= vacant <= 0.07 and 0 < demolished <= 0.03
    addresses = list(Household.objects.values_list("address", flat=True))
    assert len(set(addresses)) == SMALL
    address_re = re.compile(r"\S+(区|县|市)\S+(街道|镇|乡)\S+(社区|村) (\S+号 \d+栋\d+单元\d+室|\S+组\d+号)")
    assert all(address_re.fullmatch(a) for a in addresses), addresses[:3]

    clear_id = re.compile(r"\d{17}[\dX]")
    clear_phone = re.compile(r"1[3-9]\d{9}")
    rows = list(residents.values_list("name", "phone_masked", "phone_cipher", "id_hash", "id_last4"))
    assert len({r[3] for r in rows}) == n  # one ID number per resident, and all distinct
    for name, masked, cipher, id_hash, last4 in rows:
        assert not clear_id.search(name + masked + cipher) and not clear_phone.search(masked + cipher)
        assert re.fullmatch(r"[0-9a-f]{64}", id_hash) and re.fullmatch(r"\d{3}[\dX]", last4)
        if masked:
            assert re.fullmatch(r"1[3-9]\d\*{4}\d{4}", masked)
            phone = phone_decrypt(cipher)
            assert clear_phone.fullmatch(phone) and phone[-4:] == masked[-4:]
    share_with_phone = sum(1 for r in rows if r[1]) / n
    assert 0.6 <= share_with_phone <= 0.95

    def ages(code: str) -> set[int]:
        years = residents.filter(key_groups__code=code).values_list("birth_year", flat=True)
        return {REFERENCE_YEAR - y for y in years}

    assert ages("student") and max(ages("student")) <= 22 and min(ages("student")) >= 6
    assert ages("woman_at_home") and min(ages("woman_at_home")) >= 20 and max(ages("woman_at_home")) <= 50
    assert not residents.filter(key_groups__code="woman_at_home").exclude(sex="F").exists()
    assert ages("company_head") and ages("finance_staff") and ages("investment_risk")
    assert not residents.filter(key_groups__code="elderly").exists()  # derived from the birth year, never tagged
    assert KeyPlace.objects.filter(kind="school").exists() and KeyPlace.objects.filter(kind="enterprise").exists()
    assert not KeyPlace.objects.exclude(community__grid_cells__geom__contains=F("location")).exists()


@pytest.mark.django_db
def test_same_seed_gives_the_same_city():
    seed(households=1000)
    first = digest()
    seed("--reset", households=1000)
    assert digest() == first
    seed("--reset", households=1000, seed_value=8)
    assert digest() != first


@pytest.mark.django_db
def test_demo_accounts_have_their_roles_and_log_in():
    seed("--password", "demo-pass-2026")
    expected = {
        "demo-city": Role.CITY_ADMIN, "demo-district": Role.DISTRICT_ADMIN, "demo-chief": Role.STATION_CHIEF,
        "demo-township": Role.TOWNSHIP_STAFF, "demo-worker": Role.GRID_WORKER, "demo-volunteer": Role.VOLUNTEER,
    }
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert user.role == role
        assert Client().login(username=username, password="demo-pass-2026"), username
    assert not User.objects.filter(is_superuser=True).exists()
    admin = Client()
    admin.login(username="demo-city", password="demo-pass-2026")
    assert admin.get("/admin/").status_code == 200
    assert [a.code for a in User.objects.get(username="demo-city").areas.all()] == ["341100"]
    assert [a.name for a in User.objects.get(username="demo-district").areas.all()] == ["琅琊区"]
    chief = User.objects.get(username="demo-chief")
    assert chief.police_station.name == "清流派出所"
    assert [a.name for a in chief.areas.all()] == ["清流街道"]
    assert [a.name for a in User.objects.get(username="demo-township").areas.all()] == ["清流街道"]
    worker_cells = GridCell.objects.filter(worker__username="demo-worker")
    assert 2 <= worker_cells.count() <= 3
    assert set(worker_cells.values_list("community__name", flat=True)) == {"向桥社区"}
    assert Household.objects.filter(cell__in=worker_cells).exists()
    team = Team.objects.get(members__username="demo-volunteer")
    assert team.area.name == "向桥社区" and team.members.filter(username="demo-worker").exists()


@pytest.mark.django_db
def test_the_demo_visits_are_plausible_not_all_flagged():
    """The demo round was opened on its first morning: its visits of the days after are not flagged for an
    impossible device clock, and the coverage figures count flagged visits only where something is wrong."""
    from server.visits.models import Visit

    seed()
    visits = Visit.objects.all()
    assert visits.count() > 50
    assert not visits.filter(flag_clock=True).exists()
    assert visits.filter(flag_far=False, flag_inaccurate=False, flag_mock=False).count() == visits.count()


@pytest.mark.django_db
def test_if_empty_is_a_no_op_and_a_second_plain_run_refuses():
    seed("--if-empty")
    before = (Household.objects.count(), Resident.objects.count(), User.objects.count())
    assert "already there" in seed("--if-empty", seed_value=99)
    assert (Household.objects.count(), Resident.objects.count(), User.objects.count()) == before
    with pytest.raises(CommandError, match="--reset"):
        seed()
    assert Household.objects.count() == before[0]


@pytest.mark.django_db
def test_a_conflicting_database_is_refused_and_left_as_it_was():
    Area.objects.create(code="341102", name="琅琊区（已导入）", level=AreaLevel.DISTRICT)
    with pytest.raises(CommandError, match="Conflicts"):
        seed()
    assert list(Area.objects.values_list("code", flat=True)) == ["341102"]
    assert not Household.objects.exists() and not User.objects.exists()


@pytest.mark.django_db
def test_too_few_households_is_refused():
    with pytest.raises(CommandError, match="households"):
        seed(households=10)
    assert not Area.objects.exists()


def test_city_scale_plan_has_about_5000_cells_of_200_to_500_households():
    plan = city_plan(households=1_400_000, rng=random.Random(1))
    sizes = [cell.households for *_, cell in plan.cells()]
    assert sum(sizes) == 1_400_000
    assert 4000 <= len(sizes) <= 5500
    assert 200 <= min(sizes) and max(sizes) <= 500
    assert {d.name for d in plan.city.children} == {d.name for d in DISTRICTS}


def test_generated_id_numbers_have_a_valid_check_character():
    from server.common.demo.people import IdNumbers, family

    rng, ids = random.Random(3), IdNumbers()
    people = [p for _ in range(500) for p in family(rng, 3, home_area="341102", ids=ids)]
    assert all(id_number_is_valid(p.id_number) for p in people)
    assert all(int(p.id_number[16]) % 2 == (p.sex == "M") for p in people)
