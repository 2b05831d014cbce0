from django.urls import path

from server.reports import apis

urlpatterns = [
    path("reports", apis.ReportListCreateApi.as_view(), name="reports"),
    path("reports/<int:pk>", apis.ReportDetailApi.as_view(), name="report"),
    path("reports/<int:pk>/download", apis.ReportDownloadApi.as_view(), name="report-download"),
]
