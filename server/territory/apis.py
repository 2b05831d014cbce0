"""Territory API: thin views over the selectors; GeoJSON feature collections."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework_gis.pagination import GeoJsonPagination

from server.territory import selectors
from server.territory.models import AreaLevel
from server.territory.serializers import (
    AreaOutputSerializer,
    GridCellOutputSerializer,
    PoliceStationOutputSerializer,
)


class GeoPagination(GeoJsonPagination):
    page_size = 200
    max_page_size = 2000
    page_size_query_param = "page_size"


@extend_schema(
    tags=["territory"],
    parameters=[
        OpenApiParameter("level", OpenApiTypes.STR, enum=AreaLevel.values, description="层级 level"),
        OpenApiParameter("parent", OpenApiTypes.STR, description="上级代码 parent code"),
    ],
)
class AreaListApi(generics.ListAPIView):
    """行政区域（GeoJSON）Areas of the tree the caller may see."""

    serializer_class = AreaOutputSerializer
    pagination_class = GeoPagination

    def get_queryset(self):
        return selectors.area_list(
            user=self.request.user,
            level=self.request.query_params.get("level"),
            parent_code=self.request.query_params.get("parent"),
        )


@extend_schema(
    tags=["territory"],
    parameters=[
        OpenApiParameter("community", OpenApiTypes.STR, description="社区代码 community code"),
        OpenApiParameter("under", OpenApiTypes.STR, description="任一上级区域代码 any ancestor area code"),
    ],
)
class GridCellListApi(generics.ListAPIView):
    """网格（GeoJSON）Grid cells the caller may see."""

    serializer_class = GridCellOutputSerializer
    pagination_class = GeoPagination

    def get_queryset(self):
        return selectors.grid_cell_list(
            user=self.request.user,
            community_code=self.request.query_params.get("community"),
            under_code=self.request.query_params.get("under"),
        )


@extend_schema(tags=["territory"])
class PoliceStationListApi(generics.ListAPIView):
    """派出所及警格（GeoJSON）Police stations and their jurisdictions."""

    serializer_class = PoliceStationOutputSerializer
    pagination_class = GeoPagination

    def get_queryset(self):
        return selectors.police_station_list(user=self.request.user)
