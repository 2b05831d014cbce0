"""Territory scoping: the one place that decides which rows a user may reach.

Every view, admin page and export narrows its queryset through these functions. Area roles (city, district,
station, township) see everything under the areas they are attached to; field roles (grid worker, volunteer)
see only the grid cells they hold and those cells' households. Anonymous and inactive users, and users with
no area, see nothing. Superusers see everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from server.accounts.models import AREA_ROLES, User
from server.registry.models import Household, KeyPlace, Resident
from server.territory.models import Area, GridCell, PoliceStation

_NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class Scope:
    """What a user may reach: `everything`, or the subtrees at `paths` (area roles), or `field` cells only."""

    everything: bool = False
    paths: tuple[str, ...] = ()
    field_user: User | None = None

    def under(self, path_field: str) -> Q:
        if not self.paths:
            return _NOTHING
        return reduce(or_, (Q(**{f"{path_field}__startswith": p}) for p in self.paths))


def user_scope(user) -> Scope:
    """The caller's scope, computed once per request object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    cached = getattr(user, "_qiaomen_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(everything=True)
    elif user.role in AREA_ROLES:
        scope = Scope(paths=tuple(user.areas.values_list("path", flat=True)))
    else:
        scope = Scope(field_user=user)
    user._qiaomen_scope = scope
    return scope


def field_cell_ids(user: User) -> QuerySet:
    """Ids of the grid cells a field worker holds: those they are responsible for, and those assigned to them
    or their team (or claimed by them) in an open round."""
    from server.campaigns.models import CellAssignment, RoundStatus

    held = CellAssignment.objects.filter(Q(worker=user) | Q(team__members=user), round__status=RoundStatus.OPEN)
    return GridCell.objects.filter(Q(worker=user) | Q(id__in=held.values("cell_id"))).values("id")


def _narrow(user, qs: QuerySet, *, path_field: str, cell_field: str | None) -> QuerySet:
    scope = user_scope(user)
    if scope.everything:
        return qs
    if scope.field_user is not None:
        if cell_field is None:
            return qs.none()
        return qs.filter(**{f"{cell_field}__in": field_cell_ids(scope.field_user)})
    return qs.filter(scope.under(path_field))


def areas_visible(user, qs: QuerySet | None = None) -> QuerySet:
    """Areas in the user's subtrees; a field worker sees the communities of their cells."""
    qs = Area.objects.all() if qs is None else qs
    scope = user_scope(user)
    if scope.field_user is not None:
        return qs.filter(grid_cells__in=field_cell_ids(scope.field_user)).distinct()
    return _narrow(user, qs, path_field="path", cell_field=None)


def grid_cells_visible(user, qs: QuerySet | None = None) -> QuerySet:
    qs = GridCell.objects.all() if qs is None else qs
    return _narrow(user, qs, path_field="path", cell_field="id")


def households_visible(user, qs: QuerySet | None = None) -> QuerySet:
    qs = Household.objects.all() if qs is None else qs
    return _narrow(user, qs, path_field="community__path", cell_field="cell_id")


def residents_visible(user, qs: QuerySet | None = None) -> QuerySet:
    qs = Resident.objects.all() if qs is None else qs
    return _narrow(user, qs, path_field="household__community__path", cell_field="household__cell_id")


def key_places_visible(user, qs: QuerySet | None = None) -> QuerySet:
    qs = KeyPlace.objects.all() if qs is None else qs
    return _narrow(user, qs, path_field="community__path", cell_field=None)


def police_stations_visible(user, qs: QuerySet | None = None) -> QuerySet:
    """Stations in the user's districts, and always the user's own station."""
    qs = PoliceStation.objects.all() if qs is None else qs
    scope = user_scope(user)
    if scope.everything:
        return qs
    if not scope.paths and scope.field_user is None:
        return qs.none()
    own = Q(users=user)
    return qs.filter(own if scope.field_user is not None else (scope.under("path") | own)).distinct()


def users_visible(user, qs: QuerySet | None = None) -> QuerySet:
    """Users working in the caller's subtrees, and the caller."""
    qs = User.objects.all() if qs is None else qs
    scope = user_scope(user)
    if scope.everything:
        return qs
    if scope.field_user is not None or not scope.paths:
        return qs.filter(pk=getattr(user, "pk", None))
    return qs.filter(scope.under("areas__path") | Q(pk=user.pk)).distinct()


def devices_visible(user, qs: QuerySet | None = None) -> QuerySet:
    """Devices of the accounts the caller reaches (users_visible): administrators revoke their territory's phones."""
    from server.sync.models import Device

    qs = Device.objects.all() if qs is None else qs
    if user_scope(user).everything:
        return qs
    return qs.filter(user__in=users_visible(user).values("pk"))


def household_reports_visible(user, qs: QuerySet | None = None) -> QuerySet:
    """Reports from the field about the caller's cells or households (a report about neither: superusers only)."""
    from server.sync.models import HouseholdReport

    qs = HouseholdReport.objects.all() if qs is None else qs
    if user_scope(user).everything:
        return qs
    return qs.filter(Q(cell__in=grid_cells_visible(user).values("id"))
                     | Q(household__in=households_visible(user).values("id")))
