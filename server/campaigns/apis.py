"""Campaign planning API: thin views over campaigns.selectors and campaigns.services, scoped by territory."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts import scoping
from server.campaigns import permissions, selectors, services
from server.campaigns import serializers as s
from server.campaigns.errors import PlanError
from server.campaigns.models import Campaign, CellAssignment, Round
from server.territory.models import Area, GridCell

TAG = ["campaigns"]


def _campaign(request, pk: int, *, plan: bool = False) -> Campaign:
    campaign = get_object_or_404(selectors.campaign_list(user=request.user), pk=pk)
    if plan and not permissions.can_plan(request.user):
        raise PermissionDenied("您无权规划 / You may not plan campaigns")
    return campaign


def _round(request, pk: int, *, plan: bool = False) -> Round:
    round = get_object_or_404(
        Round.objects.select_related("campaign").filter(campaign__in=selectors.campaign_list(user=request.user)), pk=pk
    )
    if plan and not permissions.can_plan(request.user):
        raise PermissionDenied("您无权规划 / You may not plan campaigns")
    return round


def _cell(request, round: Round, code: str) -> GridCell:
    cell = scoping.grid_cells_visible(request.user).filter(code=code).first()
    if cell is None:
        raise PlanError("unknown_cell", f"网格 {code} 不存在或不在您的辖区内",
                        f"Grid cell {code} does not exist or is outside your territory")
    return cell


class CampaignListApi(APIView):
    @extend_schema(tags=TAG, responses=s.CampaignOutputSerializer(many=True), summary="敲门行动列表 Campaigns")
    def get(self, request):
        qs = selectors.campaign_list(user=request.user).prefetch_related("areas", "outcome_codes", "rounds")
        return Response(s.CampaignOutputSerializer(qs, many=True).data)

    @extend_schema(tags=TAG, request=s.CampaignInputSerializer, responses={201: s.CampaignOutputSerializer},
                   summary="新建敲门行动 Create a campaign")
    def post(self, request):
        if not permissions.can_plan(request.user):
            raise PermissionDenied("您无权规划 / You may not plan campaigns")
        data = s.CampaignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        codes = data.validated_data["areas"]
        areas = list(Area.objects.filter(code__in=codes))
        missing = sorted(set(codes) - {a.code for a in areas})
        if missing:
            raise PlanError("unknown_area", f"区域代码不存在：{', '.join(missing)}", f"Unknown area codes: {missing}")
        campaign = services.campaign_create(
            name=data.validated_data["name"], description=data.validated_data["description"], areas=areas,
            starts_on=data.validated_data["starts_on"], ends_on=data.validated_data["ends_on"],
            created_by=request.user,
        )
        return Response(s.CampaignOutputSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(APIView):
    @extend_schema(tags=TAG, responses=s.CampaignOutputSerializer, summary="敲门行动详情 A campaign")
    def get(self, request, pk: int):
        return Response(s.CampaignOutputSerializer(_campaign(request, pk)).data)


class RoundCreateApi(APIView):
    @extend_schema(tags=TAG, request=s.RoundInputSerializer, responses={201: s.RoundOutputSerializer},
                   summary="新增轮次 Add a round")
    def post(self, request, pk: int):
        campaign = _campaign(request, pk, plan=True)
        data = s.RoundInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        round = services.round_create(campaign=campaign, user=request.user, **data.validated_data)
        return Response(s.RoundOutputSerializer(round).data, status=status.HTTP_201_CREATED)


class RoundDetailApi(APIView):
    @extend_schema(tags=TAG, responses=OpenApiTypes.OBJECT,
                   summary="轮次与计数（开启前即可查看）A round with its counts, also before it opens")
    def get(self, request, pk: int):
        round = _round(request, pk)
        summary = selectors.round_summary(round=round, user=request.user)  # the caller's part of the round
        return Response({**s.RoundOutputSerializer(round).data, "summary": summary})


class RoundOpenApi(APIView):
    @extend_schema(tags=TAG, request=None, responses=s.RoundOutputSerializer, summary="开启轮次 Open a round")
    def post(self, request, pk: int):
        round = services.round_open(round=_round(request, pk, plan=True), user=request.user)
        return Response(s.RoundOutputSerializer(round).data)


class RoundCloseApi(APIView):
    @extend_schema(tags=TAG, request=None, responses=s.RoundOutputSerializer, summary="结束轮次 Close a round")
    def post(self, request, pk: int):
        round = services.round_close(round=_round(request, pk, plan=True), user=request.user)
        return Response(s.RoundOutputSerializer(round).data)


class RoundCellsApi(APIView):
    @extend_schema(tags=TAG, responses=s.RoundCellSerializer(many=True),
                   summary="轮次网格（GeoJSON，含负责队伍与户数）Cells of a round with holders and workloads")
    def get(self, request, pk: int):
        round = _round(request, pk)
        cells = scoping.grid_cells_visible(request.user, selectors.campaign_cells(campaign=round.campaign))
        cells = cells.select_related("community").order_by("code")
        held = CellAssignment.objects.filter(round=round).select_related("team", "worker")
        assignments = {a.cell_id: a for a in held}
        context = {"assignments": assignments, "workloads": selectors.round_cell_workloads(round=round)}
        return Response(s.RoundCellSerializer(cells, many=True, context=context).data)


class RoundAssignApi(APIView):
    @extend_schema(tags=TAG, request=s.AssignInputSerializer, responses=OpenApiTypes.OBJECT,
                   summary="分配/改派网格 Assign or move a cell")
    def post(self, request, pk: int):
        round = _round(request, pk, plan=True)
        data = s.AssignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        team = None
        if v["team"] is not None:
            team = selectors.teams_for_planning(user=request.user).filter(pk=v["team"]).first()
            if team is None:
                raise PlanError("unknown_team", "宣传小分队不存在或不在您的辖区内",
                                "Unknown team, or outside your territory")
        worker = None
        if v["worker"]:
            worker = scoping.users_visible(request.user).filter(username=v["worker"]).first()
            if worker is None:
                raise PlanError("unknown_worker", f"用户 {v['worker']} 不存在或不在您的辖区内",
                                f"Unknown user {v['worker']}, or outside your territory")
        cell = _cell(request, round, v["cell"])
        a = services.cell_assign(round=round, cell=cell, team=team, worker=worker, user=request.user,
                                 reason=v["reason"])
        return Response({"cell": cell.code, "team": a.team_id if a else None,
                         "worker": a.worker.username if a and a.worker_id else None})


class RoundAutoAssignApi(APIView):
    @extend_schema(tags=TAG, request=s.AutoAssignInputSerializer, responses=OpenApiTypes.OBJECT,
                   summary="自动均衡分配 Auto-assign cells to teams (balanced and compact)")
    def post(self, request, pk: int):
        round = _round(request, pk, plan=True)
        data = s.AutoAssignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        teams = list(selectors.teams_for_planning(user=request.user).filter(pk__in=data.validated_data["teams"]))
        missing = set(data.validated_data["teams"]) - {t.pk for t in teams}
        if missing:
            raise PlanError("unknown_team", f"宣传小分队不存在或不在您的辖区内：{sorted(missing)}",
                            f"Unknown teams or outside your territory: {sorted(missing)}")
        result = services.round_auto_assign(round=round, teams=teams, user=request.user,
                                            keep_manual=data.validated_data["keep_manual"],
                                            reason=data.validated_data["reason"])
        return Response(result)


class RoundClaimApi(APIView):
    @extend_schema(tags=TAG, request=s.ClaimInputSerializer, responses=OpenApiTypes.OBJECT,
                   summary="认领网格 Claim an unassigned cell (workers)")
    def post(self, request, pk: int):
        round = get_object_or_404(Round, pk=pk)
        data = s.ClaimInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cell = GridCell.objects.filter(code=data.validated_data["cell"]).first()
        if cell is None:
            raise Http404
        a = services.cell_claim(round=round, cell=cell, worker=request.user)
        return Response({"cell": cell.code, "worker": a.worker.username}, status=status.HTTP_201_CREATED)


class RoundChangesApi(APIView):
    @extend_schema(tags=TAG, responses=s.AssignmentChangeSerializer(many=True),
                   summary="分配变更记录 Who moved which cell, when and why")
    def get(self, request, pk: int):
        round = _round(request, pk)
        cells = scoping.grid_cells_visible(request.user).values("id")
        qs = round.assignment_changes.filter(cell_id__in=cells).select_related(
            "cell", "from_team", "from_worker", "to_team", "to_worker", "changed_by")
        return Response(s.AssignmentChangeSerializer(qs[:1000], many=True).data)


class TeamListApi(APIView):
    @extend_schema(tags=TAG, responses=s.TeamSerializer(many=True), summary="宣传小分队 Teams")
    def get(self, request):
        qs = selectors.teams_for_planning(user=request.user).prefetch_related("members").select_related("area")
        return Response(s.TeamSerializer(qs, many=True).data)


class WalkListApi(APIView):
    @extend_schema(tags=TAG, responses=s.WalkListEntrySerializer(many=True), summary="走访清单 Walk list of a cell")
    def get(self, request, pk: int, code: str):
        round = _round(request, pk)
        return Response(s.WalkListEntrySerializer(
            selectors.walk_list(round=round, cell=_cell(request, round, code)), many=True).data)


class WalkSheetApi(APIView):
    @extend_schema(tags=TAG, responses={(200, "application/pdf"): OpenApiTypes.BINARY},
                   summary="纸质走访表（PDF 或 XLSX）Walk sheet as PDF or XLSX")
    def get(self, request, pk: int, code: str, fmt: str):
        from server.campaigns import walksheets

        round = _round(request, pk)
        cell = _cell(request, round, code)
        body, ctype = walksheets.walk_sheet_export(user=request.user, round=round, cell=cell, fmt=fmt)
        response = HttpResponse(body, content_type=ctype)
        response["Content-Disposition"] = f'attachment; filename="walk-sheet-r{round.number}-{cell.code}.{fmt}"'
        return response


class WalkSheetImportApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(tags=TAG, request={"multipart/form-data": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}}}}, responses=OpenApiTypes.OBJECT,
        summary="导入填好的走访表（XLSX）Import a filled walk sheet as visits")
    def post(self, request, pk: int):
        from server.campaigns import walksheets

        _round(request, pk)
        upload = request.FILES.get("file")
        if upload is None:
            raise PlanError("no_file", "请上传填好的 XLSX 走访表", "Upload the filled XLSX walk sheet as `file`")
        with transaction.atomic():
            result = walksheets.walk_sheet_import(path_or_file=upload, user=request.user,
                                                  language=request.LANGUAGE_CODE)
        return Response(result.as_dict() if hasattr(result, "as_dict") else result.__dict__)



