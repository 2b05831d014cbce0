from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_replace
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from server.common.health import HealthApi

admin.site.site_header = "敲门 Qiaomen 反诈敲门行动管理"
admin.site.site_title = "敲门 Qiaomen"
admin.site.index_title = "管理 Administration"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("plan/", include("server.planner.urls")),
    path("reports/", include("server.reports.page_urls")),
    path("coverage/", include("server.coverage.page_urls")),
    path("tiles/", include("server.coverage.tile_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # Redoc injects <style> elements of its own: inline styles on this page only (docs/security.md §6).
    path("api/redoc/", csp_replace({"style-src": [SELF, UNSAFE_INLINE]})(
        SpectacularRedocView.as_view(url_name="schema")), name="redoc"),
    path("api/v1/health", HealthApi.as_view(), name="health"),
    path("api/v1/", include("server.territory.urls")),
    path("api/v1/", include("server.registry.urls")),
    path("api/v1/", include("server.accounts.urls")),
    path("api/v1/", include("server.campaigns.urls")),
    path("api/v1/", include("server.coverage.urls")),
    path("api/v1/", include("server.sync.urls")),
    path("api/v1/", include("server.reports.urls")),
    path("api/v1/", include("server.audit.urls")),
]

# JSON errors for /api/ URLs that no view answers (Django's pages elsewhere): server/common/http_errors.py
handler400 = "server.common.http_errors.bad_request"
handler403 = "server.common.http_errors.permission_denied"
handler404 = "server.common.http_errors.page_not_found"
handler500 = "server.common.http_errors.server_error"
