"""Language choice: Chinese first, English when asked for.

Django's LocaleMiddleware follows the browser's Accept-Language, which would show English to a Chinese
user on an English-language browser. Here pages are Chinese unless the user chose English (the language cookie
set by /i18n/setlang/, or ?lang=en); API clients may also ask with Accept-Language.
"""

from __future__ import annotations

from django.conf import settings
from django.middleware.gzip import GZipMiddleware
from django.utils import translation


def _pick(request) -> str:
    for candidate in (request.GET.get("lang"), request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)):
        if candidate:
            try:
                return translation.get_supported_language_variant(candidate)
            except LookupError:
                continue
    if request.path.startswith("/api/"):
        header = request.headers.get("Accept-Language", "")
        first = header.split(",")[0].split(";")[0].strip().lower()
        if first.startswith("en"):
            return "en"
    return settings.LANGUAGE_CODE


class ChineseFirstLocaleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = _pick(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


class ApiGZipMiddleware(GZipMiddleware):
    """Compress API responses only: HTML pages carry CSRF tokens, and compressing them invites BREACH."""

    def process_response(self, request, response):
        if not request.path.startswith("/api/"):
            return response
        return super().process_response(request, response)


class PermissionsPolicyMiddleware:
    """Permissions-Policy on every response (settings.QIAOMEN_PERMISSIONS_POLICY): no page may use the camera, the
    microphone or the browser's geolocation. Django has no setting for this header."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "QIAOMEN_PERMISSIONS_POLICY", "")

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Permissions-Policy", self.policy)
        return response
