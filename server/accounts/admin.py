from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from server.accounts import scoping, services
from server.accounts.models import Team, User
from server.common.admin import ScopedAdminMixin, ScopedChoicesMixin


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    scope = staticmethod(scoping.users_visible)
    list_display = ["username", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("敲门 Qiaomen", {"fields": ["role", "areas", "police_station", "phone"]}),
    )
    autocomplete_fields = ["areas", "police_station"]
    # What only a superuser may set: the role decides the group and admin access of everyone else's accounts.
    SUPERUSER_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else fields + list(self.SUPERUSER_FIELDS)

    # Role, area, status and group changes go into the audit trail: the state before the form is saved, compared
    # with the state after its many-to-many fields (areas, groups) are saved too. A new account, or a new role,
    # gets the role's group and admin access (services.user_role_apply), as user_create and user_update give them.
    def save_model(self, request, obj, form, change):
        request._qiaomen_user_before = (
            services.user_snapshot(User.objects.get(pk=obj.pk)) if change and obj.pk else None)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        before = getattr(request, "_qiaomen_user_before", None)
        if before is None or before["role"] != form.instance.role:
            services.user_role_apply(user=form.instance)
        if before is None:
            services.user_create_record(user=form.instance, by=request.user, reason="管理后台新增 added in admin")
        else:
            services.user_change_record(user=form.instance, by=request.user, before=before,
                                        reason="管理后台修改 edited in admin")

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            services.user_password_record(user=User.objects.get(pk=id), by=request.user)
        return response


@admin.register(Team)
class TeamAdmin(ScopedChoicesMixin, admin.ModelAdmin):
    list_display = ["name", "area", "police_station", "leader"]
    filter_horizontal = ["members"]
    autocomplete_fields = ["area", "police_station", "leader"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        areas = scoping.areas_visible(request.user)
        return qs.filter(area__in=areas)
