"""Full phone numbers: masked on every screen and API; shown only through the explicit reveal, to the roles whose
work needs them, with a reason, each reveal in the audit trail (without the number)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from server.audit.models import AuditAction, AuditEntry
from server.campaigns import services
from tests.factories import PASSWORD, Role, make_user

pytestmark = pytest.mark.django_db
D = dt.date
FULL = "13812345678"  # every test resident's phone (tests/factories.py)


def client_for(user) -> APIClient:
    client = APIClient()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def reveal(client, household, reason="预警劝阻，需电话联系户主"):
    return client.post(f"/api/v1/households/{household.pk}/reveal-phone", {"reason": reason}, format="json")


@pytest.fixture
def open_round(mini_city, campaign, chief, workers, team):
    r = services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 30))
    services.cell_assign(round=r, cell=mini_city.cells[0], worker=workers[2], user=chief)  # the team: w0, w1
    services.cell_assign(round=r, cell=mini_city.cells[1], team=team, user=chief)
    services.round_open(round=r, user=chief)
    return r


def test_everything_else_shows_the_phone_masked(mini_city, chief):
    residents = client_for(chief).get("/api/v1/residents").json()["results"]
    assert residents and {r["phone"] for r in residents} == {"138****5678"}
    assert FULL not in client_for(chief).get("/admin/registry/resident/").content.decode()


def test_station_chief_reveals_with_a_reason_and_the_reveal_is_audited(mini_city, chief):
    household = mini_city.households[0]
    r = reveal(client_for(chief), household)
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    assert [p["phone"] for p in r.json()["residents"]] == [FULL]
    assert r.json()["residents"][0]["phone_masked"] == "138****5678"
    entry = AuditEntry.objects.get(action=AuditAction.PHONE_REVEAL)
    assert (entry.actor_username, entry.object_id) == ("chief", str(household.pk))
    assert entry.reason == "预警劝阻，需电话联系户主"
    assert entry.territory_code == household.cell.code and entry.ip == "127.0.0.1"
    assert entry.changes == {"residents": [household.residents.get().pk]}
    assert FULL not in str(entry.changes) + entry.object_repr + entry.reason


def test_grid_worker_reveals_only_for_the_cells_they_hold(mini_city, open_round, workers):
    own = client_for(workers[2])
    assert reveal(own, mini_city.households[0]).status_code == 200  # cell 0, assigned to them
    assert reveal(own, mini_city.households[3]).status_code == 404  # cell 1: not theirs, not even visible
    # a team member holds cell 1 through the team
    assert reveal(client_for(workers[1]), mini_city.households[3]).status_code == 200
    assert AuditEntry.objects.filter(action=AuditAction.PHONE_REVEAL).count() == 2


def test_other_roles_are_refused_and_nothing_is_recorded(mini_city, open_round, team):
    volunteer = make_user("vol", Role.VOLUNTEER, areas=[mini_city.communities[0]])
    team.members.add(volunteer)
    refused = {
        "volunteer": volunteer,
        "township": make_user("staff", Role.TOWNSHIP_STAFF, areas=[mini_city.townships[0]]),
        "district": make_user("dadmin", Role.DISTRICT_ADMIN, areas=[mini_city.districts[0]]),
        "city": make_user("cadmin", Role.CITY_ADMIN, areas=[mini_city.city]),
    }
    for name, user in refused.items():
        r = reveal(client_for(user), mini_city.households[3])
        assert r.status_code == 403, name
        assert r.json()["code"] == "reveal_forbidden" and "完整手机号" in r.json()["detail"]
    # a chief of the other district does not even see the household
    other_chief = make_user("chief2", Role.STATION_CHIEF, areas=[mini_city.districts[1]])
    assert reveal(client_for(other_chief), mini_city.households[0]).status_code == 404
    assert APIClient().post(f"/api/v1/households/{mini_city.households[0].pk}/reveal-phone",
                            {"reason": "看看看看"}, format="json").status_code in (401, 403)
    assert not AuditEntry.objects.filter(action=AuditAction.PHONE_REVEAL).exists()


def test_a_reason_is_required(mini_city, chief):
    client = client_for(chief)
    missing = client.post(f"/api/v1/households/{mini_city.households[0].pk}/reveal-phone", {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["errors"]
    short = reveal(client, mini_city.households[0], reason="  看 ")
    assert short.status_code == 400 and short.json()["code"] == "reason_required" and short.json()["field"] == "reason"
    assert not AuditEntry.objects.filter(action=AuditAction.PHONE_REVEAL).exists()


def test_only_the_reveal_decrypts_phone_numbers():
    """Masking and encryption live in server/common/pii.py; the reveal service is the one reader of full numbers."""
    root = Path(__file__).resolve().parents[2] / "server"
    callers = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                     if "phone_decrypt(" in p.read_text(encoding="utf-8") and p.name != "pii.py")
    assert callers == ["registry/services.py"]
