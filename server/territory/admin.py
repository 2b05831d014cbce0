from django.contrib import admin

from server.accounts import scoping
from server.common.admin import ScopedGeoAdmin
from server.territory.models import Area, GridCell, PoliceStation


@admin.register(Area)
class AreaAdmin(ScopedGeoAdmin):
    scope = staticmethod(scoping.areas_visible)
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]


@admin.register(GridCell)
class GridCellAdmin(ScopedGeoAdmin):
    scope = staticmethod(scoping.grid_cells_visible)
    list_display = ["code", "name", "community", "worker"]
    search_fields = ["code", "name", "community__name"]
    autocomplete_fields = ["community", "worker"]
    list_select_related = ["community", "worker"]


@admin.register(PoliceStation)
class PoliceStationAdmin(ScopedGeoAdmin):
    scope = staticmethod(scoping.police_stations_visible)
    list_display = ["code", "name", "district"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["district"]
