"""Reports API: ask for a report, follow its progress, download it. Thin views over services and selectors."""

from __future__ import annotations

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts import scoping
from server.campaigns import selectors as campaign_selectors
from server.campaigns.models import Round
from server.reports import selectors, services
from server.reports.models import Report, ReportFormat

TAG = ["reports"]


class ReportOutputSerializer(serializers.ModelSerializer):
    area = serializers.CharField(source="area.code")
    area_name = serializers.CharField(source="area.name")
    campaign_name = serializers.CharField(source="campaign.name")
    round_number = serializers.IntegerField(source="round.number", allow_null=True, default=None)
    status_display = serializers.CharField(source="get_status_display")
    requested_by = serializers.CharField(source="requested_by.username", allow_null=True, default=None)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ["id", "title", "area", "area_name", "campaign", "campaign_name", "round", "round_number", "format",
                  "kind", "status", "status_display", "progress", "step", "error", "requested_by", "requested_at",
                  "started_at", "finished_at", "size", "expires_at", "download_url"]

    def get_download_url(self, report: Report) -> str | None:
        return f"/api/v1/reports/{report.pk}/download" if report.status == "done" else None


def _report(request, pk: int) -> Report:
    report = selectors.report_get(user=request.user, pk=pk)
    if report is None:
        raise Http404
    return report


class ReportListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        area = serializers.CharField(help_text="区域代码 area code (township, district or city)")
        campaign = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                            help_text="行动编号 campaign id (or give a round)")
        round = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1,
                                         help_text="轮次编号 round id; none: the whole campaign")
        format = serializers.ChoiceField(choices=ReportFormat.values, default=ReportFormat.XLSX)

        def validate(self, data):
            if not data.get("campaign") and not data.get("round"):
                raise serializers.ValidationError({"campaign": ["请选择行动或轮次 / give a campaign or a round"]})
            return data

    @extend_schema(tags=TAG, responses=ReportOutputSerializer(many=True), summary="报表列表 Reports of my territory")
    def get(self, request):
        qs = selectors.report_list(user=request.user)
        return Response(ReportOutputSerializer(qs[:200], many=True).data)

    @extend_schema(tags=TAG, request=InputSerializer, responses={202: ReportOutputSerializer},
                   summary="申请生成报表 Ask for a report (made in the background)")
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        campaigns = campaign_selectors.campaign_list(user=request.user)
        area = scoping.areas_visible(request.user).filter(code=v["area"]).first()
        if area is None:
            raise serializers.ValidationError({"area": [
                f"区域 {v['area']} 不存在或不在您的辖区内 / no area {v['area']} in your territory"]})
        round = None
        if v.get("round"):
            round = Round.objects.filter(campaign__in=campaigns, pk=v["round"]).select_related("campaign").first()
            if round is None:
                raise serializers.ValidationError({"round": [f"轮次 {v['round']} 不存在 / no round {v['round']}"]})
        campaign = round.campaign if round else campaigns.filter(pk=v["campaign"]).first()
        if campaign is None:
            raise serializers.ValidationError({"campaign": [
                f"行动 {v['campaign']} 不存在 / no campaign {v['campaign']}"]})
        if v.get("campaign") and v["campaign"] != campaign.pk:
            raise serializers.ValidationError({"round": ["该轮次不属于所选行动 / the round is of another campaign"]})
        report = services.report_request(user=request.user, area=area, campaign=campaign, round=round,
                                         format=v["format"])
        report.refresh_from_db()  # inline (no broker): it is already made
        return Response(ReportOutputSerializer(report).data, status=status.HTTP_202_ACCEPTED)


class ReportDetailApi(APIView):
    @extend_schema(tags=TAG, responses=ReportOutputSerializer, summary="报表状态与进度 A report's status and progress")
    def get(self, request, pk: int):
        return Response(ReportOutputSerializer(_report(request, pk)).data)


class ReportDownloadApi(APIView):
    @extend_schema(tags=TAG, responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
                   summary="下载报表文件 Download a finished report")
    def get(self, request, pk: int):
        download = services.report_download(user=request.user, report=_report(request, pk))
        return FileResponse(download.file, as_attachment=True, filename=download.filename,
                            content_type=download.content_type)

