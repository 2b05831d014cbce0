"""Audit trail API for administrators: the list (filtered, paginated) and its export as CSV or XLSX (audited)."""

from __future__ import annotations

from urllib.parse import quote

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.views import APIView

from server.audit import exporting, selectors
from server.audit.models import AuditAction, AuditEntry

TAG = ["audit"]


class FiltersSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=AuditAction.choices, required=False, allow_blank=True, default="")
    actor = serializers.CharField(required=False, allow_blank=True, default="", max_length=150)
    object_type = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    object_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    territory = serializers.CharField(required=False, allow_blank=True, default="", max_length=24)
    since = serializers.DateField(required=False, allow_null=True, default=None)
    until = serializers.DateField(required=False, allow_null=True, default=None)

    def validate(self, data):
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            raise serializers.ValidationError({"until": "结束日期早于开始日期 / until is before since"})
        return data


def _filters(request) -> selectors.AuditFilters:
    if not selectors.can_view_audit(request.user):
        raise PermissionDenied("您无权查看审计日志 / You may not read the audit trail")
    data = FiltersSerializer(data=request.query_params)
    data.is_valid(raise_exception=True)
    return selectors.AuditFilters(**data.validated_data)


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = ["id", "at", "actor_username", "actor_role", "action", "object_type", "object_id", "object_repr",
                  "territory_code", "changes", "reason", "rows", "ip", "device_id"]


@extend_schema(tags=TAG, parameters=[FiltersSerializer], summary="审计日志 Audit trail (administrators)")
class AuditListApi(ListAPIView):
    serializer_class = AuditEntrySerializer
    queryset = AuditEntry.objects.none()  # for the schema; get_queryset scopes every real request

    def get_queryset(self):
        return selectors.audit_entry_list(user=self.request.user, filters=_filters(self.request))


class AuditExportApi(APIView):
    @extend_schema(tags=TAG, parameters=[FiltersSerializer], responses={(200, "text/csv"): bytes},
                   summary="导出审计日志（CSV/XLSX，导出本身记入审计）Export the audit trail (itself audited)")
    def get(self, request, fmt: str):
        body, name, ctype, _ = exporting.audit_export(user=request.user, filters=_filters(request), fmt=fmt)
        response = HttpResponse(body, content_type=ctype)
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return response
