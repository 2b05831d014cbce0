"""API plumbing shared by every app: one JSON error shape for every 4xx/5xx."""

from __future__ import annotations

from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    """DRF's handler, with a stable `code` and `detail` on every error body."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(data, dict) and "detail" in data and len(data) <= 2:
        code = getattr(data["detail"], "code", None) or getattr(exc, "default_code", "error")
        response.data = {"code": str(code), "detail": str(data["detail"])}
    else:
        response.data = {"code": "invalid", "detail": "输入有误 / Invalid input", "errors": data}
    return response
