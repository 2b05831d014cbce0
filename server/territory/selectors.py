"""Reads of the territory tree, always through the caller's scope."""

from __future__ import annotations

from django.db.models import QuerySet

from server.accounts import scoping
from server.accounts.models import User


def area_list(*, user: User, level: str | None = None, parent_code: str | None = None) -> QuerySet:
    """Areas the user may see, optionally one level or the children of one area."""
    qs = scoping.areas_visible(user).select_related("parent")
    if level:
        qs = qs.filter(level=level)
    if parent_code:
        qs = qs.filter(parent__code=parent_code)
    return qs.order_by("code")


def grid_cell_list(*, user: User, community_code: str | None = None, under_code: str | None = None) -> QuerySet:
    """Grid cells the user may see; `under_code` narrows to the subtree of any area."""
    qs = scoping.grid_cells_visible(user).select_related("community")
    if community_code:
        qs = qs.filter(community__code=community_code)
    if under_code:
        qs = qs.filter(path__contains=f"{under_code}/")
    return qs.order_by("code")


def police_station_list(*, user: User) -> QuerySet:
    return scoping.police_stations_visible(user).select_related("district").order_by("code")


def grid_cell_adjacency(*, cells, tolerance_deg: float = 1e-5) -> list[tuple[int, int]]:
    """Pairs of cell ids whose polygons touch (or come within ~1 m: imported boundaries rarely meet exactly).

    `cells` is an iterable of GridCell with `geom`. Envelopes are swept along x, so only near cells are compared.
    """
    items = []
    for c in cells:
        xmin, ymin, xmax, ymax = c.geom.extent
        items.append((xmin - tolerance_deg, ymin - tolerance_deg, xmax + tolerance_deg, ymax + tolerance_deg, c))
    items.sort(key=lambda t: t[0])
    pairs: list[tuple[int, int]] = []
    active: list[tuple] = []
    for item in items:
        xmin = item[0]
        active = [a for a in active if a[2] >= xmin]
        for other in active:
            if other[1] <= item[3] and item[1] <= other[3]:
                a, b = other[4], item[4]
                if a.geom.distance(b.geom) <= tolerance_deg:
                    pairs.append((a.id, b.id))
        active.append(item)
    return pairs
