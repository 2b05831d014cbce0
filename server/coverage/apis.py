from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from server.campaigns import selectors as campaign_selectors
from server.campaigns.models import Round
from server.coverage import selectors


class CoverageApi(APIView):
    @extend_schema(
        tags=["coverage"], responses=OpenApiTypes.OBJECT,
        summary="覆盖情况 Coverage of a round by area",
        parameters=[
            OpenApiParameter("round", OpenApiTypes.INT, required=True, description="轮次 round id"),
            OpenApiParameter("level", OpenApiTypes.STR, enum=selectors.LEVELS, description="层级 level (default cell)"),
            OpenApiParameter("area", OpenApiTypes.STR, description="区域代码 limit to the subtree of this area"),
        ],
    )
    def get(self, request):
        level = request.query_params.get("level", "cell")
        if level not in selectors.LEVELS:
            raise ValidationError({"level": [f"应为 {selectors.LEVELS} 之一 / one of {selectors.LEVELS}"]})
        try:
            round_id = int(request.query_params.get("round", ""))
        except ValueError:
            raise ValidationError({"round": ["需要轮次编号 / a round id is required"]}) from None
        round = get_object_or_404(
            Round.objects.filter(campaign__in=campaign_selectors.campaign_list(user=request.user)), pk=round_id)
        rows = selectors.coverage_by_area(user=request.user, round=round, level=level,
                                          area_code=request.query_params.get("area") or None)
        return Response({"round": round.pk, "level": level, "rows": rows})
