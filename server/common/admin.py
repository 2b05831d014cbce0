"""Admin plumbing: every admin page narrows its queryset through the territory scoping functions."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from leaflet.admin import LeafletGeoAdminMixin


class ScopedAdminMixin:
    """Set `scope` to a scoping function (user, qs) -> qs; the list, detail and lookups all pass through it."""

    scope: Callable | None = None

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        scope = type(self).scope
        return scope(request.user, qs) if scope else qs


class ScopedGeoAdmin(ScopedAdminMixin, LeafletGeoAdminMixin, admin.ModelAdmin):
    """Scoped admin with the offline Leaflet map widget (tiles only when QIAOMEN_TILE_URL is configured)."""

    display_raw = False
    settings_overrides = {}


class AppendOnlyAdminMixin:
    """For records that are facts (visits, assignment history): viewable, never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
