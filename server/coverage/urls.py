from django.urls import path

from server.coverage import apis

urlpatterns = [
    path("coverage", apis.CoverageApi.as_view(), name="coverage"),
    path("coverage/geojson", apis.CoverageGeoJsonApi.as_view(), name="coverage-geojson"),
    path("coverage/households", apis.CoverageHouseholdsApi.as_view(), name="coverage-households"),
    path("coverage/households.xlsx", apis.CoverageHouseholdsXlsxApi.as_view(), name="coverage-households-xlsx"),
    path("coverage/daily", apis.CoverageDailyApi.as_view(), name="coverage-daily"),
    path("coverage/teams", apis.CoverageTeamsApi.as_view(), name="coverage-teams"),
    path("coverage/workers", apis.CoverageWorkersApi.as_view(), name="coverage-workers"),
]
