"""Reads of the register, always through the caller's scope."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from server.accounts import scoping
from server.accounts.models import User


def household_list(
    *, user: User, cell_code: str | None = None, community_code: str | None = None, status: str | None = None
) -> QuerySet:
    """Households the user may see, optionally those of one cell, community or status."""
    qs = scoping.households_visible(user).select_related("cell", "community")
    if cell_code:
        qs = qs.filter(cell__code=cell_code)
    if community_code:
        qs = qs.filter(community__code=community_code)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(resident_count=Count("residents")).order_by("register_id")


def resident_list(*, user: User, household_register_id: str | None = None) -> QuerySet:
    """Residents the user may see (a field worker: only in the cells they hold)."""
    qs = scoping.residents_visible(user).select_related("household").prefetch_related("key_groups")
    if household_register_id:
        qs = qs.filter(household__register_id=household_register_id)
    return qs.order_by("household__register_id", "id")


def key_place_list(*, user: User, kind: str | None = None) -> QuerySet:
    qs = scoping.key_places_visible(user).select_related("community")
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("kind", "name")


def households_outside_cells(*, user: User) -> QuerySet:
    """Households whose point lies in no grid cell: listed for the register keepers, never dropped."""
    return scoping.households_visible(user).filter(cell__isnull=True).order_by("register_id")
