"""Coverage API: thin views over the selectors; every answer counts only the caller's cells."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from server.coverage import productivity, selectors, serializers

_WHICH = ("Give `round` (one round) or `campaign` (the campaign as a whole: a household counts as reached if any "
          "round reached it). Only the caller's territory is counted. 400 names the bad parameter.")


class _CoverageApi(APIView):
    query_serializer = serializers.CoverageQuerySerializer

    def query(self, request) -> serializers.CoverageQuerySerializer:
        query = self.query_serializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        return query

    @staticmethod
    def head(query) -> dict:
        data = query.validated_data
        round, campaign = data.get("round"), data.get("campaign")
        return {"round": round.pk if round else None, "campaign": (round.campaign_id if round else campaign.pk),
                "area": data["area_code"]}


class CoverageApi(_CoverageApi):
    query_serializer = serializers.CoverageAreaQuerySerializer

    @extend_schema(tags=["coverage"], summary="覆盖情况 Coverage by area", description=_WHICH,
                   parameters=[serializers.CoverageAreaQuerySerializer],
                   responses=serializers.CoverageAnswerSerializer)
    def get(self, request):
        query = self.query(request)
        kwargs, level = query.selector_kwargs(), query.validated_data["level"]
        rows = selectors.coverage_by_area(user=request.user, level=level, **kwargs)
        total = selectors.coverage_summary(user=request.user, **kwargs)
        return Response({**self.head(query), "level": level, "total": total, "rows": rows})


class CoverageDailyApi(_CoverageApi):
    @extend_schema(tags=["coverage"], summary="每日进度 Progress by day (Asia/Shanghai)", description=_WHICH,
                   parameters=[serializers.CoverageQuerySerializer], responses=serializers.DailyAnswerSerializer)
    def get(self, request):
        query = self.query(request)
        rows = productivity.coverage_daily(user=request.user, **query.selector_kwargs())
        return Response({**self.head(query), "rows": rows})


class CoverageTeamsApi(_CoverageApi):
    @extend_schema(tags=["coverage"], summary="小分队工作量 Teams", description=_WHICH,
                   parameters=[serializers.CoverageQuerySerializer], responses=serializers.TeamsAnswerSerializer)
    def get(self, request):
        query = self.query(request)
        rows = productivity.coverage_teams(user=request.user, **query.selector_kwargs())
        return Response({**self.head(query), "rows": rows})


class CoverageWorkersApi(_CoverageApi):
    @extend_schema(tags=["coverage"], summary="网格员工作量 Workers", description=_WHICH,
                   parameters=[serializers.CoverageQuerySerializer], responses=serializers.WorkersAnswerSerializer)
    def get(self, request):
        query = self.query(request)
        rows = productivity.coverage_workers(user=request.user, **query.selector_kwargs())
        return Response({**self.head(query), "rows": rows})
