from django import forms
from django.contrib import admin

from server.accounts import scoping
from server.common import pii
from server.common.admin import ScopedAdminMixin, ScopedGeoAdmin
from server.registry import services
from server.registry.models import Household, KeyGroup, KeyPlace, Resident


class ResidentForm(forms.ModelForm):
    """Phone and ID number are write-only: stored encrypted/hashed by the register service, shown masked."""

    phone = forms.CharField(label="手机号（填写以更新）phone (fill to change)", required=False)
    id_number = forms.CharField(label="身份证号（填写以更新）ID number (fill to change)", required=False)

    class Meta:
        model = Resident
        fields = ["household", "name", "sex", "birth_year", "key_groups"]

    def clean_phone(self):
        value = self.cleaned_data["phone"]
        if value and not pii.phone_is_valid(value):
            raise forms.ValidationError("手机号格式不正确 / Malformed phone number")
        return value

    def clean_id_number(self):
        value = self.cleaned_data["id_number"]
        if value and not pii.id_number_is_valid(value):
            raise forms.ValidationError("身份证号校验失败（GB 11643）/ ID number fails the GB 11643 checksum")
        return value

    def save(self, commit=True):
        resident = super().save(commit=False)
        services.resident_set_identity(
            resident=resident, phone=self.cleaned_data.get("phone") or None,
            id_number=self.cleaned_data.get("id_number") or None,
        )
        if commit:
            resident.save()
            self.save_m2m()
        return resident


class ResidentInline(admin.TabularInline):
    model = Resident
    form = ResidentForm
    extra = 0
    fields = ["name", "sex", "birth_year", "phone_masked", "id_last4", "phone", "id_number", "key_groups"]
    readonly_fields = ["phone_masked", "id_last4"]


@admin.register(Household)
class HouseholdAdmin(ScopedGeoAdmin):
    scope = staticmethod(scoping.households_visible)
    list_display = ["register_id", "address", "community", "cell", "status", "size"]
    list_filter = ["status"]
    search_fields = ["register_id", "address", "building", "room"]
    autocomplete_fields = ["community", "cell"]
    list_select_related = ["community", "cell"]
    inlines = [ResidentInline]


@admin.register(Resident)
class ResidentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    scope = staticmethod(scoping.residents_visible)
    form = ResidentForm
    list_display = ["name", "household", "sex", "birth_year", "phone_masked", "id_last4"]
    search_fields = ["name", "household__register_id"]
    readonly_fields = ["phone_masked", "id_last4"]
    autocomplete_fields = ["household"]
    list_select_related = ["household"]


@admin.register(KeyGroup)
class KeyGroupAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "derived"]


@admin.register(KeyPlace)
class KeyPlaceAdmin(ScopedGeoAdmin):
    scope = staticmethod(scoping.key_places_visible)
    list_display = ["name", "kind", "community", "contact_name", "contact_phone_masked", "size"]
    list_filter = ["kind"]
    search_fields = ["name"]
    autocomplete_fields = ["community"]
