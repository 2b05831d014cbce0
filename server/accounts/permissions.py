"""Permission predicates `can_<verb>_<thing>(user, obj) -> bool`: all permission logic lives here."""

from __future__ import annotations

from server.accounts import scoping
from server.accounts.models import AREA_ROLES, Role, User
from server.registry.models import Household, Resident

# Roles whose work needs a resident's full phone number (urgent face-to-face contact), through an explicit, audited
# reveal (POST /api/v1/households/{id}/reveal-phone): station chiefs in their territory, and grid workers for the
# households of the cells they hold. Everyone else sees phones masked (server/common/pii.py). See docs/privacy.md.
FULL_PHONE_ROLES = {Role.STATION_CHIEF}
FULL_PHONE_FIELD_ROLES = {Role.GRID_WORKER}
REGISTER_EDIT_ROLES = {Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.TOWNSHIP_STAFF}
TERRITORY_EDIT_ROLES = {Role.CITY_ADMIN}


def can_view_household(user: User, household: Household) -> bool:
    return scoping.households_visible(user).filter(pk=household.pk).exists()


def can_view_resident(user: User, resident: Resident) -> bool:
    return scoping.residents_visible(user).filter(pk=resident.pk).exists()


def can_view_full_phone(user: User, resident: Resident | None = None) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if user.role not in FULL_PHONE_ROLES:
        return False
    return resident is None or can_view_resident(user, resident)


def can_reveal_phone(user: User, household: Household) -> bool:
    """May this user reveal the full phone numbers of a household's residents (with a reason, audited)?

    Station chiefs: households in their territory. Grid workers: households of cells they are responsible for or
    hold in an open round (scoping gives field roles exactly those). Volunteers, township staff and
    administrators: never (masked is enough for their work). Superusers: yes (technical administration)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if user.is_superuser:
        return True
    if user.role not in FULL_PHONE_ROLES | FULL_PHONE_FIELD_ROLES:
        return False
    return can_view_household(user, household)


def can_edit_register(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in REGISTER_EDIT_ROLES)


def can_import_households(user: User) -> bool:
    return can_edit_register(user)


def can_edit_territory(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in TERRITORY_EDIT_ROLES)


def can_request_reports(user: User) -> bool:
    """Reports are for area roles (field roles see only their cells)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return bool(user.is_superuser or user.role in AREA_ROLES)


def can_request_report(user: User, area) -> bool:
    """A report of an area inside the user's territory."""
    return can_request_reports(user) and scoping.areas_visible(user).filter(pk=area.pk).exists()


def can_view_report(user: User, report) -> bool:
    """Whoever may ask for a report of its area may see and download it (weekly ones included)."""
    return can_request_report(user, report.area)
