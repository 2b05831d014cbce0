"""The audit trail in the admin: read-only, for administrators, scoped to their territory, exportable."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpResponse
from django.urls import path

from server.audit import exporting, selectors
from server.audit.models import AuditEntry
from server.common.errors import DomainError


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_username", "actor_role", "action", "object_type", "object_id", "object_repr",
                    "territory_code", "rows", "reason", "ip", "device_id"]
    list_filter = ["action", "actor_role", "object_type", "at"]
    search_fields = ["actor_username", "object_id", "object_repr", "territory_code", "reason", "device_id"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEntry._meta.fields]
    change_list_template = "admin/audit/auditentry/change_list.html"
    list_per_page = 100

    def get_queryset(self, request):
        return selectors.audit_entries_visible(request.user, super().get_queryset(request))

    def has_module_permission(self, request) -> bool:
        return selectors.can_view_audit(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return selectors.can_view_audit(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        extra = [path("export/<str:fmt>/", self.admin_site.admin_view(self.export_view), name="audit_export")]
        return extra + super().get_urls()

    def export_view(self, request, fmt: str):
        """The list as filtered on screen (same query string), as CSV or XLSX."""
        if not selectors.can_view_audit(request.user):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        try:
            body, name, ctype, _ = exporting.audit_export(user=request.user, filters=selectors.AuditFilters(),
                                                         fmt=fmt, queryset=changelist.get_queryset(request))
        except DomainError as e:
            return HttpResponse(e.message, status=400, content_type="text/plain; charset=utf-8")
        response = HttpResponse(body, content_type=ctype)
        from urllib.parse import quote

        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return response

