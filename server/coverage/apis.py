"""Coverage API: thin views over the selectors; every answer counts only the caller's cells."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from server.coverage import exports, geo, households, productivity, selectors, serializers

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

    def body(self, *, user, level: str, **kwargs) -> dict:
        """The answer's rows: the areas of the level with their figures."""
        return {"rows": selectors.coverage_by_area(user=user, level=level, **kwargs)}

    def answer(self, request) -> Response:
        query = self.query(request)
        kwargs, level = query.selector_kwargs(), query.validated_data["level"]
        total = selectors.coverage_summary(user=request.user, **kwargs)
        return Response({**self.body(user=request.user, level=level, **kwargs), **self.head(query), "level": level,
                         "total": total})

    @extend_schema(tags=["coverage"], summary="覆盖情况 Coverage by area", description=_WHICH,
                   parameters=[serializers.CoverageAreaQuerySerializer],
                   responses=serializers.CoverageAnswerSerializer)
    def get(self, request):
        return self.answer(request)


class CoverageGeoJsonApi(CoverageApi):
    def body(self, *, user, level: str, **kwargs) -> dict:
        """The same rows as GeoJSON Features with the areas' outlines."""
        rows = geo.coverage_features(user=user, level=level, **kwargs)
        return {"type": "FeatureCollection", "features": serializers.CoverageFeatureSerializer(rows, many=True).data}

    @extend_schema(tags=["coverage"], summary="覆盖情况地图 Coverage by area as GeoJSON",
                   description=_WHICH + " The same rows as GET /api/v1/coverage, each a GeoJSON Feature with the "
                   "area's boundary (outlines above the cell simplified) and `coverage_class` for the legend.",
                   parameters=[serializers.CoverageAreaQuerySerializer],
                   responses=serializers.CoverageFeatureCollectionSerializer)
    def get(self, request):
        return self.answer(request)


class TilesUnavailable(APIException):
    status_code = 501
    default_code = "tiles_unavailable"
    default_detail = ("此数据库（SpatiaLite）不能生成矢量切片，请使用 /api/v1/coverage/geojson / vector tiles need "
                      "PostGIS; on SpatiaLite use /api/v1/coverage/geojson")


class CoverageTileApi(_CoverageApi):
    query_serializer = serializers.TileQuerySerializer

    @extend_schema(tags=["coverage"], summary="覆盖情况矢量切片 Vector tile of cells with coverage",
                   description="A Mapbox vector tile (EPSG:3857 z/x/y, layer `coverage`) of the caller's grid cells "
                   "with their figures in the round (or campaign). PostGIS only: 501 on SpatiaLite.",
                   parameters=[serializers.TileQuerySerializer],
                   responses={(200, "application/vnd.mapbox-vector-tile"): OpenApiTypes.BINARY,
                              204: OpenApiResponse(description="空切片 no cell in this tile")})
    def get(self, request, z: int, x: int, y: int):
        if z not in geo.TILE_ZOOMS or not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
            raise ValidationError({"z": [f"切片编号超出范围 / no tile {z}/{x}/{y}: z 0–22, x and y 0–2^z−1"]})
        query = self.query(request)
        data = query.validated_data
        try:
            tile = geo.coverage_tile(user=request.user, z=z, x=x, y=y, round=data.get("round"),
                                     campaign=data.get("campaign"))
        except geo.TilesUnavailable:
            raise TilesUnavailable() from None
        response = HttpResponse(tile, status=200 if tile else 204,
                                content_type="application/vnd.mapbox-vector-tile")
        response["Cache-Control"] = "private, max-age=60"
        return response


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


class HouseholdsPagination(LimitOffsetPagination):
    default_limit = 200
    max_limit = 2000


class CoverageHouseholdsApi(_CoverageApi):
    query_serializer = serializers.HouseholdsQuerySerializer

    @extend_schema(tags=["coverage"], summary="住户清单 The households of a round (not reached by default)",
                   description="The households `to_visit` counts in the round, inside your territory and under "
                   "`area`, in `state`: not_reached (to_visit − reached − excluded), reached, excluded or all. "
                   "Contacts masked. Paginated (limit ≤ 2000).",
                   parameters=[serializers.HouseholdsQuerySerializer],
                   responses=serializers.HouseholdRowSerializer(many=True))
    def get(self, request):
        query = self.query(request)
        data = query.validated_data
        qs = households.round_households_query(user=request.user, round=data["round"],
                                               area_code=data["area_code"], state=data["state"])
        paginator = HouseholdsPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        rows = households.household_rows(page, round=data["round"])
        return paginator.get_paginated_response(serializers.HouseholdRowSerializer(rows, many=True).data)


class CoverageHouseholdsXlsxApi(_CoverageApi):
    query_serializer = serializers.HouseholdsQuerySerializer

    @extend_schema(tags=["coverage"], summary="住户清单 XLSX (audited export)",
                   description="The same list as /api/v1/coverage/households as a workbook; recorded in the audit "
                   "trail (who, when, how many rows, which round and area).",
                   parameters=[serializers.HouseholdsQuerySerializer],
                   responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"):
                              OpenApiTypes.BINARY})
    def get(self, request):
        query = self.query(request)
        data = query.validated_data
        content, _ = exports.round_households_xlsx(user=request.user, round=data["round"],
                                                   area_code=data["area_code"], state=data["state"])
        name = f"households-round{data['round'].pk}-{data['area_code'] or 'all'}-{data['state']}.xlsx"
        response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument."
                                                      "spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
