"""The database going away for a while: `503 database_unavailable` instead of a 500, and `GET /api/v1/health`.

A phone treats a 5xx as "try again later" and keeps its outbox (mobile/qiaomen_field/transport.py), so a push that
meets a database that is down, restarting or failing over must say so plainly: `503` with `Retry-After` and a JSON
body in the usual error shape. Nothing of such a request is committed (the push is one transaction), so the retry
is answered as usual (docs/faults.md).

`DatabaseUnavailableMiddleware` maps `django.db.OperationalError` and `InterfaceError` raised by a view (DRF views
re-raise what their exception handler does not know) and, through `got_request_exception`, by the middleware below
it (a session saved at the end of a page request). Other errors keep their 500.
"""

from __future__ import annotations

import json
import sys

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.utils import translation
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

DB_ERRORS = (OperationalError, InterfaceError)
DETAIL_ZH = "数据库暂时不可用，请稍后重试"
DETAIL_EN = "The database is unavailable for the moment: please try again later"
_MARK = "_qiaomen_database_unavailable"


def retry_after_s() -> int:
    return int(getattr(settings, "QIAOMEN_DB_RETRY_AFTER_S", 30))


def database_unavailable_response(request) -> HttpResponse:
    """503 in the API's error shape (pages get a short bilingual page), with Retry-After."""
    wait = retry_after_s()
    if request.path.startswith("/api/"):
        english = (getattr(request, "LANGUAGE_CODE", "") or translation.get_language() or "").startswith("en")
        response = JsonResponse({"code": "database_unavailable", "detail": DETAIL_EN if english else DETAIL_ZH,
                                 "detail_zh": DETAIL_ZH, "detail_en": DETAIL_EN, "retry_after_s": wait},
                                status=503, json_dumps_params={"ensure_ascii": False})
    else:
        response = HttpResponse(f"<!doctype html><meta charset=utf-8><title>503</title><h1>{DETAIL_ZH}</h1>"
                                f"<p>{DETAIL_EN}</p>", status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(wait)
    response["Cache-Control"] = "no-store"
    return response


def _mark_database_error(sender, request=None, **kwargs) -> None:
    if request is not None and isinstance(sys.exc_info()[1], DB_ERRORS):
        setattr(request, _MARK, True)


class DatabaseUnavailableMiddleware:
    """Put it high in MIDDLEWARE (right after SecurityMiddleware): it sees what the middleware below it raised."""

    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(_mark_database_error, dispatch_uid="qiaomen-database-unavailable")

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _MARK, False):
            return database_unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, DB_ERRORS):
            return database_unavailable_response(request)
        return None


def database_status() -> str:
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DB_ERRORS:
        connection.close_if_unusable_or_obsolete()
        return "down"
    return "ok"


def broker_status() -> str:
    """`none` without a broker (tasks run inline), else `ok` or `down` (one attempt, 2 s at most)."""
    if not settings.CELERY_BROKER_URL:
        return "none"
    from server.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception:  # kombu raises its transport's errors (connection refused, timeout, auth …)
        return "down"
    return "ok"


class HealthApi(APIView):
    """For load balancers and monitoring: no authentication, no data."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(tags=["ops"], auth=[], summary="健康检查 Health check",
                   description="200 when the database answers (`status` `degraded` when the broker does not: pushes "
                               "are still stored, figures catch up when it is back); 503 when the database is down.",
                   responses={200: inline_serializer("Health", {"status": serializers.CharField(),
                                                                "database": serializers.CharField(),
                                                                "broker": serializers.CharField()}),
                              503: inline_serializer("HealthDown", {"status": serializers.CharField(),
                                                                    "database": serializers.CharField(),
                                                                    "broker": serializers.CharField(),
                                                                    "code": serializers.CharField(),
                                                                    "detail": serializers.CharField()})})
    def get(self, request):
        database, broker = database_status(), broker_status()
        body = {"status": "ok" if broker != "down" else "degraded", "database": database, "broker": broker}
        if database == "down":
            down = json.loads(database_unavailable_response(request).content)
            return JsonResponse({**body, "status": "unavailable", **down}, status=503,
                                headers={"Retry-After": str(retry_after_s()), "Cache-Control": "no-store"},
                                json_dumps_params={"ensure_ascii": False})
        return JsonResponse(body, headers={"Cache-Control": "no-store"})
