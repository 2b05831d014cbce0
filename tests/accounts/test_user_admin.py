"""Accounts edited in the admin: the role decides the account's group and admin access (as user_create and
user_update decide them), only superusers grant superuser status, groups or permissions, areas are chosen within
the editor's territory; administrators see and revoke the devices of their territory only."""

from __future__ import annotations

import pytest
from django.test import Client

from server.accounts.models import Role, User
from server.audit.models import AuditAction, AuditEntry
from server.sync import services as sync_services
from server.sync.models import Device
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_form(client, user, **changes) -> dict:
    """The user's admin change form as the page fills it, with `changes` (what a person would edit)."""
    form = client.get(f"/admin/accounts/user/{user.pk}/change/").context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form.initial.get(name)
        if name == "date_joined":
            data.update({"date_joined_0": value.date().isoformat(), "date_joined_1": "08:00:00"})
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [getattr(v, "pk", v) for v in value]
        elif value is not None and name != "last_login":
            data[name] = value
    data.update(changes)
    return data


def groups(user: User) -> list[str]:
    return sorted(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


@pytest.fixture
def city_admin(mini_city):
    return make_user("ca", Role.CITY_ADMIN, areas=[mini_city.city])


def test_a_role_changed_in_the_admin_brings_its_group_and_admin_access(mini_city, city_admin):
    worker = make_user("gw", Role.GRID_WORKER, areas=[mini_city.communities[0]])
    client = signed_in(city_admin)
    r = client.post(f"/admin/accounts/user/{worker.pk}/change/",
                    change_form(client, worker, role=Role.TOWNSHIP_STAFF, areas=[mini_city.townships[0].pk]))
    assert r.status_code == 302, r.context["adminform"].form.errors
    assert groups(worker) == ["role:township_staff"] and User.objects.get(pk=worker.pk).is_staff
    # the new township staff member works in the admin at once, within the township
    listing = signed_in(User.objects.get(pk=worker.pk)).get("/admin/registry/household/")
    assert listing.status_code == 200 and listing.context["cl"].full_result_count == 6
    change = AuditEntry.objects.filter(action=AuditAction.USER_CHANGE, object_repr="gw").latest("pk")
    assert change.changes["groups"] == {"from": ["role:grid_worker"], "to": ["role:township_staff"]}
    assert change.changes["is_staff"] == {"from": False, "to": True}

    # and back to a field role: no admin any more
    r = client.post(f"/admin/accounts/user/{worker.pk}/change/", change_form(client, worker, role=Role.VOLUNTEER))
    assert r.status_code == 302
    assert groups(worker) == ["role:volunteer"] and not User.objects.get(pk=worker.pk).is_staff
    assert signed_in(User.objects.get(pk=worker.pk)).get("/admin/registry/household/").status_code == 302


def test_only_a_superuser_grants_superuser_status_groups_or_permissions(mini_city, city_admin):
    worker = make_user("gw", Role.GRID_WORKER, areas=[mini_city.communities[0]])
    client = signed_in(city_admin)
    page = client.get(f"/admin/accounts/user/{worker.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page
    city_group = city_admin.groups.get()
    r = client.post(f"/admin/accounts/user/{worker.pk}/change/", change_form(
        client, worker, is_superuser="on", is_staff="on", groups=[city_group.pk], first_name="张"))
    assert r.status_code == 302
    worker = User.objects.get(pk=worker.pk)
    assert worker.first_name == "张"  # the edit itself went through
    assert not worker.is_superuser and not worker.is_staff and groups(worker) == ["role:grid_worker"]
    # nor for themselves
    r = client.post(f"/admin/accounts/user/{city_admin.pk}/change/", change_form(
        client, city_admin, is_superuser="on"))
    assert r.status_code == 302 and not User.objects.get(pk=city_admin.pk).is_superuser


def test_areas_are_chosen_within_the_editors_territory(mini_city):
    district_chief = make_user("da_editor", Role.CITY_ADMIN, areas=[mini_city.districts[0]])
    worker = make_user("gw", Role.GRID_WORKER, areas=[mini_city.communities[0]])
    client = signed_in(district_chief)
    r = client.post(f"/admin/accounts/user/{worker.pk}/change/",
                    change_form(client, worker, areas=[mini_city.communities[2].pk]))  # the other district
    assert r.status_code == 200 and "areas" in r.context["adminform"].form.errors
    assert list(User.objects.get(pk=worker.pk).areas.all()) == [mini_city.communities[0]]


def test_administrators_see_and_revoke_their_territorys_devices_only(mini_city):
    mine = make_user("gw", Role.GRID_WORKER, areas=[mini_city.communities[0]])
    theirs = make_user("gw_d1", Role.GRID_WORKER, areas=[mini_city.communities[2]])
    for user in (mine, theirs):
        sync_services._device_token_store(user=user, device_id=f"phone-{user.username}", device_name="Redmi")
    admin = make_user("da", Role.DISTRICT_ADMIN, areas=[mini_city.districts[0]])
    client = signed_in(admin)
    listing = client.get("/admin/sync/device/")
    assert [d.device_id for d in listing.context["cl"].result_list] == ["phone-gw"]
    r = client.post("/admin/sync/device/", {"action": "revoke",
                                            "_selected_action": [d.pk for d in Device.objects.all()]})
    assert r.status_code == 302
    revoked = dict(Device.objects.values_list("device_id", "revoked_at"))
    assert revoked["phone-gw"] is not None and revoked["phone-gw_d1"] is None
    # station chiefs do not manage devices
    chief = make_user("sc", Role.STATION_CHIEF, areas=[mini_city.districts[0]])
    assert signed_in(chief).get("/admin/sync/device/").status_code == 403
