from django.contrib import admin

from server.accounts import scoping
from server.common.admin import AppendOnlyAdminMixin
from server.visits.models import Visit


@admin.register(Visit)
class VisitAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    """Visits are append-only facts: viewable, never edited here (a correction is a new visit)."""

    list_display = ["captured_at", "household", "round", "outcome", "worker", "source", "flag_far", "flag_inaccurate",
                    "flag_mock", "flag_clock"]
    list_filter = ["source", "flag_far", "flag_inaccurate", "flag_mock", "flag_clock"]
    list_select_related = ["household", "round__campaign", "outcome", "worker"]
    search_fields = ["household__register_id", "worker__username"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(household__in=scoping.households_visible(request.user))
