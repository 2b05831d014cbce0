"""Sync API: device sign-in, pull and push. Thin views over sync.services (docs/sync-protocol.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from server.common.errors import DomainError
from server.sync import serializers as s
from server.sync import services, validation
from server.sync.models import Device

TAG = ["sync"]
ERRORS = {400: s.SyncErrorSerializer, 401: s.SyncErrorSerializer, 403: s.SyncErrorSerializer}


class BatchTooLarge(DomainError):
    status_code = 413


def _language(request) -> str:
    return getattr(request, "LANGUAGE_CODE", None) or settings.LANGUAGE_CODE


def _device(request) -> Device:
    device = request.auth if isinstance(request.auth, Device) else None
    if device is None:
        raise DomainError("device_required", "请使用设备令牌（Authorization: Token …）同步",
                          "Sync needs a device token (Authorization: Token …)")
    return device


def _invalid(errors) -> DomainError:
    return DomainError("invalid_batch", "提交的数据有误，未保存任何内容", "The batch is malformed; nothing was stored",
                       errors=s.flatten_errors(errors))


class DeviceAuthApi(APIView):
    """Sign a device in: username and password → a token for this device (shown once)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(tags=TAG, request=s.DeviceAuthInputSerializer, responses={200: s.DeviceAuthOutputSerializer,
                   400: s.SyncErrorSerializer}, summary="设备登录 Sign a device in", auth=[])
    def post(self, request):
        data = s.DeviceAuthInputSerializer(data=request.data)
        if not data.is_valid():
            raise _invalid(data.errors)
        issued = services.device_token_issue(request=request, **data.validated_data)
        user = issued.device.user
        return Response(s.DeviceAuthOutputSerializer({
            "token": issued.token, "expires_at": issued.device.expires_at,
            "user": {"id": user.pk, "username": user.username, "role": user.role,
                     "name": user.get_full_name() or user.username},
        }).data)


class DeviceWipedApi(APIView):
    """A revoked phone confirms it wiped its local data (with its revoked token), and how many unsent items it
    discarded. Best effort: the phone wipes whether or not this arrives."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(tags=TAG, request=s.DeviceWipedInputSerializer, responses={200: s.SyncErrorSerializer,
                   401: s.SyncErrorSerializer}, summary="设备已清除 A revoked device confirms its wipe", auth=[])
    def post(self, request):
        from rest_framework.authentication import get_authorization_header

        parts = get_authorization_header(request).split()
        token = parts[1].decode(errors="replace") if len(parts) == 2 and parts[0].lower() == b"token" else ""
        data = s.DeviceWipedInputSerializer(data=request.data)
        if not data.is_valid():
            raise _invalid(data.errors)
        services.device_wipe_confirm(token=token, discarded=data.validated_data["discarded"])
        return Response({"code": "wiped", "detail": "已记录 / Recorded"})


class SyncPullApi(APIView):
    """Changes for this device since its cursor: one page, read in one consistent snapshot."""

    @extend_schema(tags=TAG, parameters=[OpenApiParameter("cursor", str, description="游标 cursor ('' = everything)"),
                                         OpenApiParameter("limit", int, description="records per page")],
                   responses={200: s.PullOutputSerializer, **ERRORS}, summary="拉取变更 Pull changes")
    def get(self, request):
        device = _device(request)
        query = s.PullQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise _invalid(query.errors)
        page = services.sync_pull(device=device, **query.validated_data)
        return Response(page)


class SyncPushApi(APIView):
    """Visits, household reports and offline claims made on the phone; one result per item."""

    @extend_schema(tags=TAG, request=s.PushInputSerializer, responses={200: s.PushOutputSerializer, 413:
                   s.SyncErrorSerializer, **ERRORS}, summary="提交走访 Push visits, reports and claims")
    def post(self, request):
        device = _device(request)
        language = _language(request)
        limit = settings.QIAOMEN_SYNC_MAX_BODY
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise BatchTooLarge("body_too_large", f"提交内容超过 {limit // 1048576} MB，请分批提交",
                                f"The body is over {limit // 1048576} MB: send smaller batches")
        try:
            batch = validation.push_batch_validate(request.data)
        except validation.BatchInvalid as exc:
            raise _invalid(exc.errors) from None
        items = sum(len(batch[k]) for k in ("visits", "household_reports", "claims"))
        if items > settings.QIAOMEN_SYNC_MAX_ITEMS:
            raise DomainError("batch_too_large", f"每批最多 {settings.QIAOMEN_SYNC_MAX_ITEMS} 条，请分批提交",
                              f"At most {settings.QIAOMEN_SYNC_MAX_ITEMS} items a batch: send smaller batches")
        try:
            results = services.sync_push(device=device, language=language, **batch)
        except IntegrityError:
            # The same items arrived twice at once (a phone retrying while its first request still runs): the other
            # request has stored them by now, so a second pass answers `duplicate`.
            results = services.sync_push(device=device, language=language, **batch)
        return Response({"results": results, "server_time": timezone.now().isoformat()})
