from django.contrib import admin

from server.campaigns import selectors, services
from server.campaigns.models import AssignmentChange, Campaign, CellAssignment, OutcomeCode, Round
from server.common.admin import AppendOnlyAdminMixin


class OutcomeCodeInline(admin.TabularInline):
    model = OutcomeCode
    extra = 0


class RoundInline(admin.TabularInline):
    model = Round
    extra = 0
    fields = ["number", "starts_on", "ends_on", "status", "opened_at", "closed_at"]
    readonly_fields = ["status", "opened_at", "closed_at"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "starts_on", "ends_on"]
    filter_horizontal = ["areas"]
    inlines = [OutcomeCodeInline, RoundInline]

    def get_queryset(self, request):
        return selectors.campaign_list(user=request.user)

    def save_formset(self, request, form, formset, change):
        """Round edits made here go into the audit trail like those made through the planner."""
        if formset.model is not Round:
            return super().save_formset(request, form, formset, change)
        before = {}
        for f in formset.forms:
            if f.instance.pk and f.has_changed():
                before[f.instance.pk] = {k: f.initial.get(k) for k in ("starts_on", "ends_on", "status")}
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            services.round_edit_record(round=obj, user=request.user, before=None, reason="管理后台新增 added in admin")
        for obj, _fields in formset.changed_objects:
            services.round_edit_record(round=obj, user=request.user, before=before.get(obj.pk, {}),
                                       reason="管理后台修改 edited in admin")


@admin.register(CellAssignment)
class CellAssignmentAdmin(admin.ModelAdmin):
    list_display = ["round", "cell", "team", "worker", "source", "assigned_at", "assigned_by"]
    list_filter = ["source"]
    list_select_related = ["round__campaign", "cell", "team", "worker", "assigned_by"]
    readonly_fields = [f.name for f in CellAssignment._meta.fields]

    def get_queryset(self, request):
        from server.accounts import scoping

        return super().get_queryset(request).filter(cell__in=scoping.grid_cells_visible(request.user))

    def has_add_permission(self, request):
        return False  # assignments change through the planner so that every change is recorded


@admin.register(AssignmentChange)
class AssignmentChangeAdmin(AppendOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["changed_at", "round", "cell", "from_team", "from_worker", "to_team", "to_worker", "changed_by",
                    "reason", "remaining_households"]
    list_select_related = ["round__campaign", "cell", "from_team", "from_worker", "to_team", "to_worker", "changed_by"]

    def get_queryset(self, request):
        from server.accounts import scoping

        return super().get_queryset(request).filter(cell__in=scoping.grid_cells_visible(request.user))
