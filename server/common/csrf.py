"""The answer to a POST whose CSRF token is missing or wrong (settings.CSRF_FAILURE_VIEW), Chinese first.

Pages get a short page that says what to do; anything under /api/ gets the API's JSON error shape. (DRF's own
session check answers API views; this covers any /api/ URL that Django's CSRF middleware guards.)
"""

from __future__ import annotations

from django.http import HttpResponseForbidden, JsonResponse
from django.utils.html import escape

ZH = "安全校验（CSRF）失败：请刷新页面后重试。"
EN = "Security check (CSRF) failed: reload the page and try again."


def csrf_failure(request, reason: str = ""):
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "csrf_failed", "detail": f"{ZH} / {EN}", "reason": reason}, status=403)
    body = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>403 · 敲门 Qiaomen</title></head>'
        f"<body><h1>禁止访问 Forbidden (403)</h1><p>{ZH}</p><p>{EN}</p><p><small>{escape(reason)}</small></p>"
        "</body></html>"
    )
    return HttpResponseForbidden(body)
