import datetime as dt

import pytest

from server.accounts import services as account_services
from server.campaigns import services
from tests.factories import Role, make_user


@pytest.fixture
def chief(mini_city):
    return make_user("chief", Role.STATION_CHIEF, areas=[mini_city.districts[0]])


@pytest.fixture
def campaign(mini_city, chief):
    return services.campaign_create(
        name="琅琊区敲门行动", areas=[mini_city.districts[0]], starts_on=dt.date(2026, 11, 1),
        ends_on=dt.date(2026, 12, 31), created_by=chief,
    )


@pytest.fixture
def workers(mini_city):
    return [make_user(f"w{i}", Role.GRID_WORKER, areas=[mini_city.communities[0]]) for i in range(3)]


@pytest.fixture
def team(mini_city, workers):
    return account_services.team_create(name="一队", area=mini_city.districts[0], members=workers[:2])
