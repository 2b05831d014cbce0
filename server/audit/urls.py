from django.urls import path

from server.audit import apis

urlpatterns = [
    path("audit", apis.AuditListApi.as_view(), name="audit-list"),
    path("audit/export.<str:fmt>", apis.AuditExportApi.as_view(), name="audit-export"),
]
