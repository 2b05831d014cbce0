from django.urls import path

from server.territory import apis

urlpatterns = [
    path("areas", apis.AreaListApi.as_view(), name="area-list"),
    path("cells", apis.GridCellListApi.as_view(), name="grid-cell-list"),
    path("police-stations", apis.PoliceStationListApi.as_view(), name="police-station-list"),
]
