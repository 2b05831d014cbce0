"""Device token authentication (our equivalent of django-rest-knox): `Authorization: Token <token>`.

Tokens are random (secrets.token_urlsafe(32)), shown once, stored as their SHA-256 digest. A revoked device answers
401 {"code": "device_revoked", "wipe": true} so the app wipes its local data; an expired token 401 token_expired.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from server.common.errors import DomainError
from server.sync.models import Device

KEYWORD = "Token"
LAST_SEEN_EVERY = dt.timedelta(minutes=1)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class DeviceAuthFailed(DomainError, exceptions.AuthenticationFailed):
    """401 with a machine-readable code, a message in the user's language and, for a revoked device, `wipe: true`.

    A DomainError, so the shared API exception handler renders it (code, detail, detail_zh, detail_en, wipe) on every
    endpoint; an AuthenticationFailed, so DRF adds the WWW-Authenticate header."""

    status_code = 401

    def __init__(self, code: str, zh: str, en: str, wipe: bool = False):
        DomainError.__init__(self, code, zh, en, **({"wipe": True} if wipe else {}))


class DeviceTokenAuthentication(BaseAuthentication):
    def authenticate_header(self, request) -> str:
        return KEYWORD

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None
        if len(parts) != 2:
            raise DeviceAuthFailed("token_invalid", "令牌格式不正确", "Malformed token header")
        try:
            token = parts[1].decode()
        except UnicodeError as exc:
            raise DeviceAuthFailed("token_invalid", "令牌格式不正确", "Malformed token header") from exc
        device = Device.objects.select_related("user").filter(token_digest=token_digest(token)).first()
        if device is None:
            raise DeviceAuthFailed("token_invalid", "令牌无效，请重新登录", "Invalid token: sign in again")
        if device.revoked_at is not None:
            raise DeviceAuthFailed("device_revoked", "此设备已被停用，本地数据将被清除",
                                   "This device has been revoked; its local data will be wiped", wipe=True)
        now = timezone.now()
        if device.expires_at <= now:
            raise DeviceAuthFailed("token_expired", "登录已过期，请重新登录", "Your sign-in has expired: sign in again")
        if not device.user.is_active:
            raise DeviceAuthFailed("user_inactive", "账号已停用", "This account is disabled")
        if device.last_seen_at is None or now - device.last_seen_at > LAST_SEEN_EVERY:
            Device.objects.filter(pk=device.pk).update(last_seen_at=now)
            device.last_seen_at = now
        request.device = device
        # The audit trail reads the device from Django's request (server/audit/context.py).
        getattr(request, "_request", request).device = device
        return device.user, device
