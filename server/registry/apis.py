"""Register API: thin views over the selectors. Personal data leaves masked."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts import scoping
from server.registry import selectors, services
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


class HouseholdRevealPhoneApi(APIView):
    """查看完整手机号（须填写原因，记入审计日志）Reveal the full phone numbers of a household's residents.

    For station chiefs (their territory) and grid workers (households of the cells they hold); everyone else gets
    403. The reason and the reveal go into the audit trail; the answer is never cached."""

    class RevealInputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=200, help_text="原因，例如“预警劝阻需电话联系” reason")

    class RevealOutputSerializer(serializers.Serializer):
        class ResidentPhone(serializers.Serializer):
            id = serializers.IntegerField()
            name = serializers.CharField()
            phone = serializers.CharField()
            phone_masked = serializers.CharField()

        household = serializers.CharField()
        residents = ResidentPhone(many=True)

    @extend_schema(tags=["register"], request=RevealInputSerializer, responses=RevealOutputSerializer,
                   summary="查看完整手机号 Reveal full phone numbers (audited)")
    def post(self, request, pk: int):
        household = get_object_or_404(scoping.households_visible(request.user), pk=pk)
        data = self.RevealInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shown = services.household_phones_reveal(user=request.user, household=household,
                                                 reason=data.validated_data["reason"])
        response = Response(self.RevealOutputSerializer({"household": household.register_id, "residents": shown}).data)
        response["Cache-Control"] = "no-store"
        return response
