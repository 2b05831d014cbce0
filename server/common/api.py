"""API plumbing shared by every app: one JSON error shape for every 4xx/5xx."""

from __future__ import annotations

from django.utils import translation
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from server.common import csrf
from server.common.errors import DomainError


def exception_handler(exc, context):
    """DRF's handler, with a stable `code` and `detail` on every error body; DomainError → 400 in the user's
    language (Chinese by default), with both languages alongside."""
    if isinstance(exc, DomainError):
        body = {"code": exc.code, "detail": exc.message_for(translation.get_language() or "zh-hans"),
                "detail_zh": exc.zh, "detail_en": exc.en}
        body.update({k: v for k, v in exc.details.items() if k not in body})
        return Response(body, status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, PermissionDenied) and str(exc.detail).startswith("CSRF Failed"):
        # A signed-in page's POST without its CSRF token (DRF's SessionAuthentication): say what to do, Chinese first.
        response.data = {"code": "csrf_failed", "detail": f"{csrf.ZH} / {csrf.EN}", "reason": str(exc.detail)}
        return response
    data = response.data
    if isinstance(data, dict) and "detail" in data and len(data) <= 2:
        code = getattr(data["detail"], "code", None) or getattr(exc, "default_code", "error")
        response.data = {"code": str(code), "detail": str(data["detail"])}
    else:
        response.data = {"code": "invalid", "detail": "输入有误 / Invalid input", "errors": data}
    return response
