"""Territory scoping: the one place that decides which rows a user may reach.

Every view, admin page and export narrows its queryset through these functions. Area roles (city, district,
station, township) see everything under the areas they are attached to; field roles (grid worker, volunteer)
see only the grid cells they hold and those cells' households. A user with no area sees nothing.
Superusers see everything.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet

from server.accounts.models import AREA_ROLES, User
from server.registry.models import Household, KeyPlace, Resident
from server.territory.models import Area, GridCell, PoliceStation

_NOTHING = Q(pk__in=[])


def user_area_paths(user: User) -> list[str] | None:
    """Paths of the areas the user works in; None means the whole territory (superuser)."""
    if not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return None
    cached = getattr(user, "_qiaomen_area_paths", None)
    if cached is None:
        cached = list(user.areas.values_list("path", flat=True))
        user._qiaomen_area_paths = cached
    return cached


def _path_q(field: str, paths: list[str]) -> Q:
    if not paths:
        return _NOTHING
    return reduce(or_, (Q(**{f"{field}__startswith": p}) for p in paths))


def field_cell_ids(user: User) -> QuerySet:
    """Ids of the grid cells a field worker holds (responsible for them)."""
    return GridCell.objects.filter(worker=user).values("id")


def _is_area_role(user: User) -> bool:
    return user.role in AREA_ROLES


def areas_visible(user: User, qs: QuerySet | None = None) -> QuerySet:
    """Areas under the user's areas, plus their ancestors' names are not exposed (only the subtree)."""
    qs = Area.objects.all() if qs is None else qs
    paths = user_area_paths(user)
    if paths is None:
        return qs
    if not _is_area_role(user):
        return qs.filter(grid_cells__in=field_cell_ids(user)).distinct()
    return qs.filter(_path_q("path", paths))


def grid_cells_visible(user: User, qs: QuerySet | None = None) -> QuerySet:
    qs = GridCell.objects.all() if qs is None else qs
    paths = user_area_paths(user)
    if paths is None:
        return qs
    if not _is_area_role(user):
        return qs.filter(id__in=field_cell_ids(user)) if user.is_authenticated else qs.none()
    return qs.filter(_path_q("path", paths))


def households_visible(user: User, qs: QuerySet | None = None) -> QuerySet:
    qs = Household.objects.all() if qs is None else qs
    paths = user_area_paths(user)
    if paths is None:
        return qs
    if not _is_area_role(user):
        return qs.filter(cell_id__in=field_cell_ids(user)) if user.is_authenticated else qs.none()
    return qs.filter(_path_q("community__path", paths))


def residents_visible(user: User, qs: QuerySet | None = None) -> QuerySet:
    qs = Resident.objects.all() if qs is None else qs
    paths = user_area_paths(user)
    if paths is None:
        return qs
    if not _is_area_role(user):
        return qs.filter(household__cell_id__in=field_cell_ids(user)) if user.is_authenticated else qs.none()
    return qs.filter(_path_q("household__community__path", paths))


def key_places_visible(user: User, qs: QuerySet | None = None) -> QuerySet:
    qs = KeyPlace.objects.all() if qs is None else qs
    paths = user_area_paths(user)
    if paths is None:
        return qs
    if not _is_area_role(user):
        return qs.none()
    return qs.filter(_path_q("community__path", paths))


def police_stations_visible(user: User, qs: QuerySet | None = None) -> QuerySet:
    qs = PoliceStation.objects.all() if qs is None else qs
    paths = user_area_paths(user)
    if paths is None:
        return qs
    if not _is_area_role(user):
        return qs.filter(users=user)
    # A station is visible when it is the user's own or lies in a district the user covers.
    return qs.filter(_path_q("path", paths) | Q(users=user)).distinct()


def users_visible(user: User, qs: QuerySet | None = None) -> QuerySet:
    qs = User.objects.all() if qs is None else qs
    paths = user_area_paths(user)
    if paths is None:
        return qs
    if not _is_area_role(user):
        return qs.filter(pk=user.pk)
    return qs.filter(_path_q("areas__path", paths) | Q(pk=user.pk)).distinct()
