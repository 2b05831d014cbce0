"""The audit trail: append-only, filled by the acts that matter (who, when, what, where, why, from where), readable
and exportable by administrators of the territory only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest
from django.db import connection
from django.test import TestCase
from openpyxl import load_workbook
from rest_framework.test import APIClient

from server.accounts import services as account_services
from server.audit.models import AppendOnly, AuditAction, AuditEntry
from server.audit.services import audit_record
from server.campaigns import services
from server.sync.models import Device
from server.visits.models import VisitSource
from server.visits.services import VisitInput, visits_record
from tests.factories import PASSWORD, Role, make_user
from tests.sync.conftest import sign_in

pytestmark = pytest.mark.django_db
D = dt.date


def entries(action: str):
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def logged_in(user) -> APIClient:
    client = APIClient()
    assert client.login(username=user.username, password=PASSWORD)
    return client


# ---------------------------------------------------------------------------------------------------- append-only


def test_an_entry_can_be_neither_changed_nor_deleted(chief):
    entry = audit_record(actor=chief, action=AuditAction.EXPORT, object_id="x", rows=1)
    entry.reason = "改一下"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).reason == ""


@pytest.mark.postgis
def test_postgresql_refuses_changes_made_around_django(chief):
    from django.db import DatabaseError, transaction

    entry = audit_record(actor=chief, action=AuditAction.EXPORT, object_id="x", rows=1)
    for sql in ("UPDATE audit_auditentry SET reason = 'x' WHERE id = %s", "DELETE FROM audit_auditentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk, reason="").exists()


def test_an_entry_outlives_the_account_that_made_it(mini_city):
    temp = make_user("temp", Role.STATION_CHIEF, areas=[mini_city.districts[0]])
    audit_record(actor=temp, action=AuditAction.EXPORT, object_id="x", rows=3)
    temp.delete()
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert (entry.actor_username, entry.actor_role, entry.rows) == ("temp", Role.STATION_CHIEF, 3)


# ------------------------------------------------------------------------------------------------ what is recorded


def test_round_life_and_cell_assignments_are_recorded_with_who_where_and_why(mini_city, campaign, chief, team,
                                                                              workers):
    r = services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 30), user=chief)
    cell = mini_city.cells[0]
    services.cell_assign(round=r, cell=cell, team=team, user=chief, reason="一队熟悉该小区")
    services.cell_assign(round=r, cell=cell, worker=workers[0], user=chief, reason="一队人手不足，改派")
    services.cell_assign(round=r, cell=cell, user=chief, reason="收回")
    services.cell_assign(round=r, cell=mini_city.cells[1], worker=workers[1], user=chief)
    services.round_open(round=r, user=chief)
    services.cell_claim(round=r, cell=mini_city.cells[2], worker=workers[2])
    services.cell_assign(round=r, cell=mini_city.cells[2], user=chief, reason="认领后未开展")

    created, = entries(AuditAction.ROUND_CREATE)
    assert (created.actor_username, created.object_id, created.territory_code) == ("chief", str(r.pk), "341102")
    assert created.changes["starts_on"] == "2026-11-01"
    assigned = entries(AuditAction.CELL_ASSIGN)
    assert [e.reason for e in assigned] == ["一队熟悉该小区", "一队人手不足，改派", ""]
    assert assigned[1].changes["from"] == {"team": team.pk, "worker": None}
    assert assigned[1].changes["to"] == {"team": None, "worker": workers[0].pk}
    assert assigned[0].territory_code == cell.code and assigned[0].territory_path == cell.path
    back = entries(AuditAction.CELL_UNASSIGN)
    assert [(e.object_id, e.reason) for e in back] == [(str(cell.pk), "收回"),
                                                        (str(mini_city.cells[2].pk), "认领后未开展")]
    claim, = entries(AuditAction.CELL_CLAIM)
    assert claim.actor_username == "w2" and claim.changes["to"]["worker"] == workers[2].pk
    opened, = entries(AuditAction.ROUND_OPEN)
    assert opened.changes["status"] == {"from": "draft", "to": "open"}


def test_auto_assign_records_one_entry_per_cell_moved(mini_city, campaign, chief, team, workers):
    team2 = account_services.team_create(name="二队", area=mini_city.districts[0], members=[workers[2]])
    r = services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 30), user=chief)
    result = services.round_auto_assign(round=r, teams=[team, team2], user=chief, reason="均衡分配")
    moved = entries(AuditAction.CELL_ASSIGN)
    assert len(moved) == result["cells_changed"] > 0
    assert {e.reason for e in moved} == {"均衡分配"} and all(e.changes["auto"] for e in moved)
    assert all(e.territory_path.startswith(mini_city.districts[0].path) for e in moved)


def test_round_edits_in_the_admin_are_recorded(mini_city, campaign, chief):
    admin = make_user("cityadmin", Role.CITY_ADMIN, areas=[mini_city.city])
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    r = services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 30), user=chief)
    client = logged_in(admin)
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if k in ("name", "description")}
    data.update({"starts_on": "2026-11-01", "ends_on": "2026-12-31",
                 "areas": [a.pk for a in campaign.areas.all()]})
    for formset in page.context["inline_admin_formsets"]:
        fs = formset.formset
        prefix = fs.prefix
        data.update({f"{prefix}-TOTAL_FORMS": len(fs.forms), f"{prefix}-INITIAL_FORMS": fs.initial_form_count(),
                     f"{prefix}-MIN_NUM_FORMS": 0, f"{prefix}-MAX_NUM_FORMS": 1000})
        for i, f in enumerate(fs.forms):
            for name, field in f.fields.items():
                value = f.initial.get(name, field.initial)
                if hasattr(value, "pk"):
                    value = value.pk
                if value is not None and not isinstance(value, bool):
                    data[f"{prefix}-{i}-{name}"] = value
                elif value is True:
                    data[f"{prefix}-{i}-{name}"] = "on"
            if fs.model.__name__ == "Round":
                data[f"{prefix}-{i}-ends_on"] = "2026-11-20"
    response = client.post(f"/admin/campaigns/campaign/{campaign.pk}/change/", data)
    assert response.status_code == 302, response.context and response.context["errors"]
    edit, = entries(AuditAction.ROUND_EDIT)
    assert edit.object_id == str(r.pk) and edit.actor_username == "cityadmin"
    assert edit.changes["ends_on"] == {"from": "2026-11-30", "to": "2026-11-20"}
    assert edit.ip == "127.0.0.1"


def test_an_outcome_correction_is_recorded_from_to(round, worker, chief, mini_city):
    h = mini_city.households[0]
    first = VisitInput(id=str(uuid.uuid4()), household=h.pk, round=round.pk, outcome="reached",
                       captured_at=dt.datetime.now(dt.timezone.utc).isoformat())
    fix = VisitInput(id=str(uuid.uuid4()), household=h.pk, round=round.pk, outcome="nobody_home",
                     captured_at=dt.datetime.now(dt.timezone.utc).isoformat(), corrects=first.id)
    with TestCase.captureOnCommitCallbacks(execute=True):
        visits_record(user=worker, items=[first])
        assert not entries(AuditAction.VISIT_CORRECT)  # a plain visit is not an audited act
        visits_record(user=chief, items=[fix], source=VisitSource.WEB)
    entry, = entries(AuditAction.VISIT_CORRECT)
    assert (entry.actor_username, entry.object_id) == ("chief", first.id)
    assert entry.changes["outcome"] == {"from": "reached", "to": "nobody_home"}
    assert entry.changes["correction"] == fix.id and entry.territory_code == mini_city.cells[0].code


def test_a_correction_pushed_from_a_phone_carries_the_device(round, worker, mini_city):
    from tests.sync.conftest import push, visit

    phone = sign_in(worker, "phone-audit")
    h = mini_city.households[0]
    first = visit(h, round, "nobody_home")
    push(phone, [first, visit(h, round, "reached", corrects=first["id"])])
    entry, = entries(AuditAction.VISIT_CORRECT)
    assert entry.device_id == "phone-audit" and entry.ip == "127.0.0.1" and entry.actor_username == "w1"


def test_user_role_and_area_changes_are_recorded_by_service_and_admin(mini_city, chief):
    admin = make_user("cityadmin", Role.CITY_ADMIN, areas=[mini_city.city])
    u = account_services.user_create(username="newbie", password=PASSWORD, role=Role.VOLUNTEER,
                                     areas=[mini_city.communities[0]], created_by=admin)
    created = AuditEntry.objects.get(action=AuditAction.USER_CREATE, object_repr="newbie")
    assert created.actor_username == "cityadmin" and created.changes["role"] == "volunteer"
    assert created.changes["areas"] == [mini_city.communities[0].code]
    account_services.user_update(user=u, by=admin, role=Role.GRID_WORKER, reason="转为网格员")
    change, = entries(AuditAction.USER_CHANGE)
    assert change.changes["role"] == {"from": "volunteer", "to": "grid_worker"}
    assert change.changes["groups"]["to"] == ["role:grid_worker"] and change.reason == "转为网格员"

    # the same through the admin: role and areas changed on the user's page
    superuser = make_user("root", Role.CITY_ADMIN, areas=[mini_city.city])
    superuser.is_superuser = True
    superuser.save(update_fields=["is_superuser"])
    client = logged_in(superuser)
    page = client.get(f"/admin/accounts/user/{u.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("groups", "user_permissions",
                                                                                    "areas", "password")}
    data.update({"role": Role.STATION_CHIEF, "areas": [mini_city.districts[0].pk],
                 "groups": [g.pk for g in u.groups.all()], "is_active": "on", "date_joined_0": "2026-01-01",
                 "date_joined_1": "08:00:00"})
    data.pop("is_staff", None)
    data.pop("is_superuser", None)
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = client.post(f"/admin/accounts/user/{u.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    last = entries(AuditAction.USER_CHANGE)[-1]
    assert last.actor_username == "root" and last.ip == "127.0.0.1"
    assert last.changes["role"] == {"from": "grid_worker", "to": "station_chief"}
    assert last.changes["areas"] == {"from": [mini_city.communities[0].code], "to": [mini_city.districts[0].code]}
    # a password set by an administrator is recorded, never its value
    r = client.post(f"/admin/accounts/user/{u.pk}/password/",
                    {"password1": "Xin-mima-2026", "password2": "Xin-mima-2026"})
    assert r.status_code == 302
    pw, = entries(AuditAction.USER_PASSWORD)
    assert pw.object_id == str(u.pk) and "Xin-mima" not in str(pw.changes)


def test_device_revocation_in_the_admin_is_recorded_with_address(round, worker, mini_city):
    sign_in(worker, "lost-phone")
    superuser = make_user("root", Role.CITY_ADMIN, areas=[mini_city.city])
    superuser.is_superuser = True
    superuser.save(update_fields=["is_superuser"])
    device = Device.objects.get(device_id="lost-phone")
    r = logged_in(superuser).post("/admin/sync/device/", {"action": "revoke", "_selected_action": [device.pk]},
                                  REMOTE_ADDR="10.1.2.3")
    assert r.status_code == 302
    entry, = entries(AuditAction.DEVICE_REVOKE)
    assert (entry.actor_username, entry.object_id, entry.ip) == ("root", "lost-phone", "10.1.2.3")
    assert entry.changes["user"] == "w1" and entry.territory_code == mini_city.communities[0].code


# --------------------------------------------------------------------------------------------- exports are audited


def test_walk_sheet_downloads_are_recorded_with_their_rows(round, chief, mini_city):
    client = logged_in(chief)
    cell = mini_city.cells[0]
    r = client.get(f"/api/v1/rounds/{round.pk}/cells/{cell.code}/walk-sheet.xlsx")
    assert r.status_code == 200
    entry, = entries(AuditAction.EXPORT)
    assert (entry.object_id, entry.rows, entry.actor_username) == ("walk_sheet:xlsx", 3, "chief")
    assert entry.territory_code == cell.code and entry.changes["params"]["round"] == round.pk


# ------------------------------------------------------------------------------------------------ who reads it


@pytest.fixture
def trail(mini_city, campaign, chief, workers):
    """Entries in both districts and one with no territory."""
    r = services.round_create(campaign=campaign, starts_on=D(2026, 11, 1), ends_on=D(2026, 11, 30), user=chief)
    services.cell_assign(round=r, cell=mini_city.cells[0], worker=workers[0], user=chief, reason="计划")
    other = mini_city.cells[-1]  # district 1
    audit_record(actor=chief, action=AuditAction.CELL_ASSIGN, object_type="territory.gridcell", object_id=other.pk,
                 territory=other, reason="另一区")
    audit_record(actor=None, action=AuditAction.GPS_RETENTION, object_repr="系统任务")
    return r


def test_district_admins_read_their_district_city_admins_everything_others_nothing(trail, mini_city):
    district_admin = make_user("dadmin", Role.DISTRICT_ADMIN, areas=[mini_city.districts[0]])
    city_admin = make_user("cadmin", Role.CITY_ADMIN, areas=[mini_city.city])
    station_chief = make_user("chief2", Role.STATION_CHIEF, areas=[mini_city.districts[0]])
    seen = {}
    for user in (district_admin, city_admin, station_chief):
        r = logged_in(user).get("/api/v1/audit")
        seen[user.username] = r.status_code, [e["reason"] or e["object_repr"] for e in r.json().get("results", [])]
    assert seen["dadmin"][0] == 200 and "另一区" not in seen["dadmin"][1] and "计划" in seen["dadmin"][1]
    assert seen["cadmin"][0] == 200 and {"另一区", "计划"} <= set(seen["cadmin"][1])
    assert "系统任务" in seen["cadmin"][1] and "系统任务" not in seen["dadmin"][1]  # no territory: city level only
    assert seen["chief2"][0] == 403


def test_admin_list_is_read_only_and_exports_what_is_filtered(trail, mini_city):
    admin = make_user("dadmin", Role.DISTRICT_ADMIN, areas=[mini_city.districts[0]])
    client = logged_in(admin)
    page = client.get("/admin/audit/auditentry/")
    assert page.status_code == 200
    assert "导出 CSV" in page.content.decode()
    entry = AuditEntry.objects.filter(territory_path__startswith=mini_city.districts[0].path).first()
    assert client.get(f"/admin/audit/auditentry/{entry.pk}/change/").status_code == 200  # view only
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    r = client.get("/admin/audit/auditentry/export/csv/", {"action__exact": "cell.assign"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["时间 when", "操作人 who", "角色 role", "操作 action"]
    assert [row[3] for row in rows[1:]] == ["cell.assign"] and rows[1][10] == "计划"
    export = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert (export.object_id, export.rows, export.actor_username) == ("audit:csv", 1, "dadmin")
    # a station chief has no audit page at all
    chief_client = logged_in(make_user("chief2", Role.STATION_CHIEF, areas=[mini_city.districts[0]]))
    assert chief_client.get("/admin/audit/auditentry/").status_code == 403
    assert chief_client.get("/admin/audit/auditentry/export/csv/").status_code == 403


def test_api_export_as_xlsx_with_filters_is_itself_audited(trail, mini_city):
    admin = make_user("cadmin", Role.CITY_ADMIN, areas=[mini_city.city])
    client = logged_in(admin)
    r = client.get("/api/v1/audit/export.xlsx", {"action": "cell.assign", "territory": mini_city.districts[1].code})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    values = list(ws.values)
    assert values[0][0] == "时间 when" and len(values) == 2 and values[1][10] == "另一区"
    export = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert export.rows == 1 and export.changes["params"] == {"action": "cell.assign",
                                                             "territory": mini_city.districts[1].code}
    # the export shows up in the trail it came from
    listed = client.get("/api/v1/audit", {"action": "export"}).json()["results"]
    assert [e["object_id"] for e in listed] == ["audit:xlsx"]


def test_bad_filters_and_formats_are_named(trail, mini_city):
    client = logged_in(make_user("cadmin", Role.CITY_ADMIN, areas=[mini_city.city]))
    r = client.get("/api/v1/audit", {"since": "2026-13-01"})
    assert r.status_code == 400 and "since" in r.json()["errors"]
    r = client.get("/api/v1/audit", {"since": "2026-11-05", "until": "2026-11-01"})
    assert r.status_code == 400 and "until" in r.json()["errors"]
    r = client.get("/api/v1/audit/export.pdf")
    assert r.status_code == 400 and r.json()["code"] == "bad_format"
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()
