"""Writes to accounts: users with their role, areas and role group."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from server.accounts.models import AREA_ROLES, Role, Team, User
from server.territory.models import Area

# What each role may do in the admin (on top of territory scoping, which narrows every list).
_ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.CITY_ADMIN: [
        "territory.view_area", "territory.add_area", "territory.change_area",
        "territory.view_gridcell", "territory.add_gridcell", "territory.change_gridcell",
        "territory.view_policestation", "territory.add_policestation", "territory.change_policestation",
        "registry.view_household", "registry.add_household", "registry.change_household",
        "registry.view_resident", "registry.add_resident", "registry.change_resident",
        "registry.view_keyplace", "registry.add_keyplace", "registry.change_keyplace",
        "registry.view_keygroup", "registry.add_keygroup", "registry.change_keygroup",
        "accounts.view_user", "accounts.add_user", "accounts.change_user",
        "accounts.view_team", "accounts.add_team", "accounts.change_team",
    ],
    Role.DISTRICT_ADMIN: [
        "territory.view_area", "territory.view_gridcell", "territory.change_gridcell",
        "territory.view_policestation",
        "registry.view_household", "registry.add_household", "registry.change_household",
        "registry.view_resident", "registry.add_resident", "registry.change_resident",
        "registry.view_keyplace", "registry.add_keyplace", "registry.change_keyplace",
        "accounts.view_user", "accounts.view_team", "accounts.add_team", "accounts.change_team",
    ],
    Role.STATION_CHIEF: [
        "territory.view_area", "territory.view_gridcell", "territory.view_policestation",
        "registry.view_household", "registry.view_resident", "registry.view_keyplace",
        "accounts.view_user", "accounts.view_team", "accounts.add_team", "accounts.change_team",
    ],
    Role.TOWNSHIP_STAFF: [
        "territory.view_area", "territory.view_gridcell",
        "registry.view_household", "registry.add_household", "registry.change_household",
        "registry.view_resident", "registry.add_resident", "registry.change_resident",
        "registry.view_keyplace",
    ],
    Role.GRID_WORKER: [],
    Role.VOLUNTEER: [],
}


def role_groups_ensure() -> dict[str, Group]:
    """Create or refresh one auth group per role with that role's admin permissions."""
    groups = {}
    for role, perms in _ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=f"role:{role}")
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
        groups[role] = group
    return groups


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    role: str,
    areas: Iterable[Area] = (),
    first_name: str = "",
    last_name: str = "",
    police_station=None,
) -> User:
    """Create a user attached to areas; area roles may use the admin, within their territory."""
    user = User(
        username=username, role=role, first_name=first_name, last_name=last_name,
        police_station=police_station, is_staff=role in AREA_ROLES,
    )
    user.set_password(password)
    user.save()
    user.areas.set(list(areas))
    user.groups.set([role_groups_ensure()[role]])
    return user


@transaction.atomic
def team_create(*, name: str, area: Area, members: Iterable[User] = (), leader: User | None = None,
                police_station=None) -> Team:
    team = Team.objects.create(name=name, area=area, leader=leader, police_station=police_station)
    team.members.set(list(members))
    return team
