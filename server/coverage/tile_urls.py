"""Vector tiles, outside /api/v1/ so map libraries can be given a plain {z}/{x}/{y} template."""

from django.urls import path

from server.coverage import apis

urlpatterns = [
    path("coverage/<int:z>/<int:x>/<int:y>.pbf", apis.CoverageTileApi.as_view(), name="coverage-tile"),
]
