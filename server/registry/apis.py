"""Register API: thin views over the selectors. Personal data leaves masked."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics

from server.registry import selectors
from server.registry.models import HouseholdStatus, KeyPlaceKind
from server.registry.serializers import (
    HouseholdOutputSerializer,
    KeyPlaceOutputSerializer,
    ResidentOutputSerializer,
)
from server.territory.apis import GeoPagination


@extend_schema(
    tags=["register"],
    parameters=[
        OpenApiParameter("cell", OpenApiTypes.STR, description="网格编码 grid cell code"),
        OpenApiParameter("community", OpenApiTypes.STR, description="社区代码 community code"),
        OpenApiParameter("status", OpenApiTypes.STR, enum=HouseholdStatus.values),
    ],
)
class HouseholdListApi(generics.ListAPIView):
    """住户（GeoJSON）Households the caller may see."""

    serializer_class = HouseholdOutputSerializer
    pagination_class = GeoPagination

    def get_queryset(self):
        p = self.request.query_params
        return selectors.household_list(
            user=self.request.user, cell_code=p.get("cell"), community_code=p.get("community"), status=p.get("status")
        )


@extend_schema(
    tags=["register"],
    parameters=[OpenApiParameter("household", OpenApiTypes.STR, description="住户登记编号 register id")],
)
class ResidentListApi(generics.ListAPIView):
    """居民（手机号脱敏）Residents the caller may see, phones masked."""

    serializer_class = ResidentOutputSerializer

    def get_queryset(self):
        return selectors.resident_list(
            user=self.request.user, household_register_id=self.request.query_params.get("household")
        )


@extend_schema(
    tags=["register"],
    parameters=[OpenApiParameter("kind", OpenApiTypes.STR, enum=KeyPlaceKind.values)],
)
class KeyPlaceListApi(generics.ListAPIView):
    """重点场所（企业、学校）Key places: enterprises and schools."""

    serializer_class = KeyPlaceOutputSerializer
    pagination_class = GeoPagination

    def get_queryset(self):
        return selectors.key_place_list(user=self.request.user, kind=self.request.query_params.get("kind"))
