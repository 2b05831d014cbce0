"""Reports in the admin: a read-only list of the territory's reports. The file itself is never linked here: every
download goes through the reports API, i.e. services.report_download (the one place that audits exports)."""

from django.contrib import admin

from server.common.admin import AppendOnlyAdminMixin, ScopedAdminMixin
from server.reports.models import Report


def _scope(user, qs):
    from server.reports.selectors import report_list

    return qs.filter(pk__in=report_list(user=user).values("pk"))


@admin.register(Report)
class ReportAdmin(AppendOnlyAdminMixin, ScopedAdminMixin, admin.ModelAdmin):
    scope = staticmethod(_scope)
    list_display = ["title", "format", "kind", "status", "progress", "requested_by", "requested_at", "size"]
    list_filter = ["status", "kind", "format"]
    search_fields = ["title", "area__name", "area__code"]
    exclude = ["file"]
    readonly_fields = ["area", "campaign", "round", "format", "kind", "title", "status", "progress", "step", "error",
                       "requested_by", "requested_at", "started_at", "finished_at", "size", "expires_at", "week_of"]

    def has_delete_permission(self, request, obj=None):
        # Reports go by retention (services.reports_prune), which also deletes the file.
        return False
