"""factory_boy factories and a small territory builder shared by the tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import factory
from django.contrib.gis.geos import MultiPolygon, Point, Polygon

from server.accounts import services as account_services
from server.accounts.models import Role, User
from server.registry.models import Household, HouseholdStatus, Resident
from server.registry.services import resident_set_identity
from server.territory.models import Area, AreaLevel, GridCell

PASSWORD = "test-pass-Qm2026"


def square(x0: float, y0: float, size: float) -> Polygon:
    return Polygon(((x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size), (x0, y0)), srid=4326)


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"3411{n:02d}")
    name = factory.Sequence(lambda n: f"区域{n}")
    level = AreaLevel.DISTRICT


class GridCellFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GridCell

    code = factory.Sequence(lambda n: f"341102001001{n:03d}")
    name = factory.Sequence(lambda n: f"第{n}网格")
    geom = factory.LazyFunction(lambda: square(118.30, 32.30, 0.01))


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    register_id = factory.Sequence(lambda n: f"H{n:08d}")
    street = "琅琊路"
    building = factory.Sequence(lambda n: str(n % 20 + 1))
    unit = "1"
    floor = 3
    room = factory.Sequence(lambda n: f"{300 + n % 4 + 1}")
    location = factory.LazyFunction(lambda: Point(118.305, 32.305, srid=4326))
    status = HouseholdStatus.OCCUPIED
    size = 3


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"居民{n}")
    sex = "F"
    birth_year = 1980

    @factory.post_generation
    def identity(obj, create, extracted, **kwargs):
        resident_set_identity(resident=obj, phone="13812345678", id_number="11010519491231002X")
        if create:
            obj.save()


@dataclass
class MiniCity:
    """city 341100 → 2 districts → 2 townships each → 1 community each → 2 cells each, 3 households per cell."""

    city: Area
    districts: list[Area] = field(default_factory=list)
    townships: list[Area] = field(default_factory=list)
    communities: list[Area] = field(default_factory=list)
    cells: list[GridCell] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)


def build_mini_city() -> MiniCity:
    size = 0.02
    city = Area.objects.create(code="341100", name="滁州市", level=AreaLevel.CITY,
                               geom=MultiPolygon(square(118.0, 32.0, 1.0)))
    mc = MiniCity(city=city)
    for d, (dcode, dname) in enumerate([("341102", "琅琊区"), ("341103", "南谯区")]):
        district = Area.objects.create(code=dcode, name=dname, level=AreaLevel.DISTRICT, parent=city,
                                       geom=MultiPolygon(square(118.0 + d * 0.5, 32.0, 0.5)))
        mc.districts.append(district)
        for t in range(2):
            tx, ty = 118.0 + d * 0.5, 32.0 + t * 0.25
            township = Area.objects.create(
                code=f"{dcode}{t + 1:03d}", name=f"{dname}第{t + 1}街道", level=AreaLevel.TOWNSHIP, parent=district,
                geom=MultiPolygon(square(tx, ty, 0.25)),
            )
            mc.townships.append(township)
            community = Area.objects.create(
                code=f"{township.code}001", name=f"{township.name}社区", level=AreaLevel.COMMUNITY, parent=township,
                geom=MultiPolygon(square(tx, ty, 0.1)),
            )
            mc.communities.append(community)
            for c in range(2):
                cell = GridCell.objects.create(
                    code=f"{community.code}{c + 1:03d}", name=f"{community.name}{c + 1}网格", community=community,
                    geom=square(tx + c * size, ty, size),
                )
                mc.cells.append(cell)
                for h in range(3):
                    household = HouseholdFactory(
                        community=community, cell=cell,
                        location=Point(tx + c * size + 0.005 * (h + 1), ty + 0.01, srid=4326),
                    )
                    ResidentFactory(household=household)
                    mc.households.append(household)
    return mc


def make_user(username: str, role: str, areas=(), password: str = PASSWORD) -> User:
    return account_services.user_create(username=username, password=password, role=role, areas=areas)


__all__ = ["Role", "PASSWORD", "build_mini_city", "make_user", "square"]
