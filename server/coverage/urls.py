from django.urls import path

from server.coverage import apis

urlpatterns = [path("coverage", apis.CoverageApi.as_view(), name="coverage")]
