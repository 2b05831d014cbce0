"""Admin plumbing: every admin page narrows its queryset through the territory scoping functions."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from leaflet.admin import LeafletGeoAdminMixin


class ScopedChoicesMixin:
    """Choice fields (selects, filter boxes, autocompletes) offer and accept only what the related model's admin
    shows the user: a district's administrator cannot file a household under another district's community, nor list
    another city's accounts as team members."""

    def _related_queryset(self, db_field, request, kwargs):
        if "queryset" not in kwargs:
            related = self.admin_site._registry.get(db_field.remote_field.model)
            if related is not None:
                kwargs["queryset"] = related.get_queryset(request)
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **self._related_queryset(db_field, request, kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return super().formfield_for_manytomany(db_field, request,
                                                **self._related_queryset(db_field, request, kwargs))


class ScopedAdminMixin(ScopedChoicesMixin):
    """Set `scope` to a scoping function (user, qs) -> qs; the list, detail, lookups and the choices of every
    related field all pass through it."""

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
