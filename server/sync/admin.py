"""Admin: devices (with the revoke action) and household reports from the field."""

from django.contrib import admin, messages

from server.accounts import scoping
from server.common.admin import ScopedAdminMixin
from server.sync import services
from server.sync.models import Device, HouseholdReport


@admin.register(Device)
class DeviceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Administrators see and revoke the devices of the accounts of their territory (scoping.devices_visible)."""

    scope = staticmethod(scoping.devices_visible)
    list_display = ("user", "name", "device_id", "token_prefix", "last_seen_at", "expires_at", "revoked_at",
                    "revoked_by")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "device_id", "name", "token_prefix")
    readonly_fields = ("user", "device_id", "token_prefix", "created_at", "expires_at", "last_seen_at", "revoked_at",
                       "revoked_by")
    fields = ("user", "name", "device_id", "token_prefix", "created_at", "expires_at", "last_seen_at", "revoked_at",
              "revoked_by")
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # tokens are issued by signing in on the device

    @admin.action(permissions=["change"],
                  description="吊销所选设备（下次联网时清除本地数据）Revoke (wipes local data at next contact)")
    def revoke(self, request, queryset):
        n = 0
        for device in queryset.filter(revoked_at__isnull=True):
            services.device_revoke(device=device, by=request.user, reason="管理后台吊销 revoked in admin")
            n += 1
        self.message_user(request, f"已吊销 {n} 台设备 / {n} device(s) revoked", messages.SUCCESS)


@admin.register(HouseholdReport)
class HouseholdReportAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope = staticmethod(scoping.household_reports_visible)
    list_display = ("kind", "household", "address", "cell", "reported_by", "captured_at", "received_at", "status")
    list_filter = ("kind", "status")
    search_fields = ("household__register_id", "address")
    raw_id_fields = ("household", "round", "cell")
    readonly_fields = ("id", "reported_by", "device_id", "captured_at", "received_at")
