from django.urls import path

from server.accounts import apis

urlpatterns = [path("me", apis.MeApi.as_view(), name="me")]
