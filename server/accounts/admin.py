from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from server.accounts import scoping
from server.accounts.models import Team, User
from server.common.admin import ScopedAdminMixin


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    scope = staticmethod(scoping.users_visible)
    list_display = ["username", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("敲门 Qiaomen", {"fields": ["role", "areas", "police_station", "phone"]}),
    )
    autocomplete_fields = ["areas", "police_station"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "police_station", "leader"]
    filter_horizontal = ["members"]
    autocomplete_fields = ["area", "police_station", "leader"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        areas = scoping.areas_visible(request.user)
        return qs.filter(area__in=areas)
