"""Django's error pages (settings.DEBUG off), with the API's JSON shape for /api/ and /tiles/ URLs.

DRF answers errors raised inside its views; these cover what happens before a view runs: a URL that matches no
route (an id that is not a number, say), a request Django refuses, or a crash outside DRF. Pages keep Django's own.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.views import defaults

MESSAGES = {
    400: ("bad_request", "请求有误", "Bad request"),
    403: ("permission_denied", "您无权执行此操作", "You do not have permission to do this"),
    404: ("not_found", "未找到：地址或编号不存在", "Not found: no such address or id"),
    500: ("server_error", "服务器出错，请稍后重试", "Server error: try again later"),
}


MACHINE_PREFIXES = ("/api/", "/tiles/")  # read by programs (the API, the map's vector tiles), not people


def _json(request, status: int) -> JsonResponse | None:
    if not request.path.startswith(MACHINE_PREFIXES):
        return None
    code, zh, en = MESSAGES[status]
    return JsonResponse({"code": code, "detail": f"{zh} / {en}", "detail_zh": zh, "detail_en": en}, status=status,
                        json_dumps_params={"ensure_ascii": False})


def bad_request(request, exception=None):
    return _json(request, 400) or defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    return _json(request, 403) or defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    return _json(request, 404) or defaults.page_not_found(request, exception)


def server_error(request):
    return _json(request, 500) or defaults.server_error(request)
