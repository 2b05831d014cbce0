from django.urls import path

from server.registry import apis

urlpatterns = [
    path("households", apis.HouseholdListApi.as_view(), name="household-list"),
    path("households/<int:pk>/reveal-phone", apis.HouseholdRevealPhoneApi.as_view(), name="household-reveal-phone"),
    path("residents", apis.ResidentListApi.as_view(), name="resident-list"),
    path("key-places", apis.KeyPlaceListApi.as_view(), name="key-place-list"),
]
