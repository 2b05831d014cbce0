"""Writes to accounts: users with their role, areas and role group."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from server.accounts.models import AREA_ROLES, Role, Team, User
from server.audit.models import AuditAction
from server.audit.services import audit_record
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
        "sync.view_device", "sync.change_device",  # revoke lost phones (docs/privacy.md §8)
    ],
    Role.DISTRICT_ADMIN: [
        "territory.view_area", "territory.view_gridcell", "territory.change_gridcell",
        "territory.view_policestation",
        "registry.view_household", "registry.add_household", "registry.change_household",
        "registry.view_resident", "registry.add_resident", "registry.change_resident",
        "registry.view_keyplace", "registry.add_keyplace", "registry.change_keyplace",
        "accounts.view_user", "accounts.view_team", "accounts.add_team", "accounts.change_team",
        "sync.view_device", "sync.change_device",
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
    created_by: User | None = None,
) -> User:
    """Create a user attached to areas; area roles may use the admin, within their territory. Audited."""
    user = User(
        username=username, role=role, first_name=first_name, last_name=last_name,
        police_station=police_station, is_staff=role in AREA_ROLES,
    )
    user.set_password(password)
    user.save()
    user.areas.set(list(areas))
    user.groups.set([role_groups_ensure()[role]])
    user_create_record(user=user, by=created_by)
    return user


def user_create_record(*, user: User, by: User | None, reason: str = "") -> None:
    """Audit a new account with its role, areas and groups."""
    audit_record(actor=by, action=AuditAction.USER_CREATE, obj=user, object_repr=user.username,
                 territory=user_territory(user), changes=user_snapshot(user), reason=reason)


def user_snapshot(user: User) -> dict:
    """What of an account the audit trail follows: role, areas, station, status and role groups."""
    return {
        "role": user.role, "is_active": user.is_active, "is_staff": user.is_staff, "is_superuser": user.is_superuser,
        "areas": sorted(user.areas.values_list("code", flat=True)),
        "groups": sorted(user.groups.values_list("name", flat=True)),
        "police_station": user.police_station.code if user.police_station_id else None,
    }


def user_territory(user: User) -> Area | None:
    """The area an account's audit entries are filed under: the highest of its areas."""
    return user.areas.order_by("path").first()


def user_change_record(*, user: User, by: User | None, before: dict, reason: str = "") -> bool:
    """Audit what changed of an account since `before` (a user_snapshot); nothing is written when nothing did."""
    after = user_snapshot(user)
    diff = {k: {"from": before.get(k), "to": v} for k, v in after.items() if before.get(k) != v}
    if diff:
        audit_record(actor=by, action=AuditAction.USER_CHANGE, obj=user, object_repr=user.username,
                     territory=user_territory(user), changes=diff, reason=reason)
    return bool(diff)


@transaction.atomic
def user_update(*, user: User, by: User | None, role: str | None = None, areas: Iterable[Area] | None = None,
                is_active: bool | None = None, reason: str = "") -> User:
    """Change an account's role (its role group and admin access follow), areas or status; audited."""
    before = user_snapshot(user)
    fields = []
    if role is not None and role != user.role:
        user.role, user.is_staff = role, role in AREA_ROLES
        fields += ["role", "is_staff"]
    if is_active is not None and is_active != user.is_active:
        user.is_active = is_active
        fields.append("is_active")
    if fields:
        user.save(update_fields=fields)
    if role is not None:
        user.groups.set([role_groups_ensure()[user.role]])
    if areas is not None:
        user.areas.set(list(areas))
    user_change_record(user=user, by=by, before=before, reason=reason)
    return user


def user_role_apply(*, user: User) -> None:
    """Make an account's role group and admin access follow its role, after its role was set or changed outside
    user_update (the admin's form). Groups not named role:… (given by a superuser) stay."""
    others = list(user.groups.exclude(name__startswith="role:"))
    user.groups.set([*others, role_groups_ensure()[user.role]])
    staff = user.role in AREA_ROLES or user.is_superuser
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])


def user_password_record(*, user: User, by: User | None) -> None:
    """Audit that a password was set (never what it is)."""
    audit_record(actor=by, action=AuditAction.USER_PASSWORD, obj=user, object_repr=user.username,
                 territory=user_territory(user))


@transaction.atomic
def team_create(*, name: str, area: Area, members: Iterable[User] = (), leader: User | None = None,
                police_station=None) -> Team:
    team = Team.objects.create(name=name, area=area, leader=leader, police_station=police_station)
    team.members.set(list(members))
    return team
