"""A report asked for (or made by the weekly job): what it covers, how far its making got, where its file is."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ReportFormat(models.TextChoices):
    XLSX = "xlsx", "Excel 表格 XLSX"
    PDF = "pdf", "PDF 文档 PDF"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "排队中 queued"
    RUNNING = "running", "生成中 running"
    DONE = "done", "已完成 done"
    FAILED = "failed", "失败 failed"


class ReportKind(models.TextChoices):
    REQUESTED = "requested", "按需 requested"
    WEEKLY = "weekly", "周报 weekly"


def report_upload_to(report: Report, filename: str) -> str:
    return f"reports/{timezone.localdate():%Y/%m}/{filename}"


class Report(models.Model):
    area = models.ForeignKey("territory.Area", verbose_name="区域 area", on_delete=models.CASCADE,
                             related_name="reports")
    campaign = models.ForeignKey("campaigns.Campaign", verbose_name="敲门行动 campaign", on_delete=models.CASCADE,
                                 related_name="reports")
    # No round: the report covers the whole campaign (every round so far).
    round = models.ForeignKey("campaigns.Round", verbose_name="轮次 round", null=True, blank=True,
                              on_delete=models.CASCADE, related_name="reports")
    format = models.CharField("格式 format", max_length=8, choices=ReportFormat.choices)
    kind = models.CharField("类别 kind", max_length=12, choices=ReportKind.choices, default=ReportKind.REQUESTED)
    title = models.CharField("标题 title", max_length=200)
    status = models.CharField("状态 status", max_length=10, choices=ReportStatus.choices,
                              default=ReportStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField("进度 progress (%)", default=0)
    step = models.CharField("当前步骤 step", max_length=200, blank=True)
    error = models.TextField("错误 error", blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人 requested by", null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField("申请时间 requested at", default=timezone.now, db_index=True)
    started_at = models.DateTimeField("开始时间 started at", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间 finished at", null=True, blank=True)
    file = models.FileField("文件 file", upload_to=report_upload_to, max_length=300, blank=True)
    size = models.PositiveBigIntegerField("文件大小 size (bytes)", default=0)
    rows = models.PositiveIntegerField("数据行数 rows", null=True, blank=True, editable=False)
    expires_at = models.DateTimeField("保留至 kept until", null=True, blank=True, db_index=True)
    # Weekly reports: the Monday of the week they cover (one per area, campaign, format and week).
    week_of = models.DateField("周报所属周 week of", null=True, blank=True)

    class Meta:
        verbose_name = "报表"
        verbose_name_plural = "报表 reports"
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["area", "campaign", "kind"])]

    def __str__(self) -> str:
        return self.title
