"""Writes of reports: ask for one, make it (in a Celery task, inline without a broker), hand its file out, make the
weekly ones, drop expired ones.

Every download goes through `report_download`: the one place to audit exports.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from server.accounts import permissions
from server.accounts.models import User
from server.campaigns.models import Campaign, Round
from server.campaigns.walksheets.fonts import CJKFontMissing
from server.common.errors import DomainError
from server.reports.content import content_build
from server.reports.models import Report, ReportFormat, ReportKind, ReportStatus
from server.territory.models import Area, AreaLevel

log = logging.getLogger(__name__)
REPORT_LEVELS = {AreaLevel.CITY, AreaLevel.DISTRICT, AreaLevel.TOWNSHIP}
CONTENT_TYPES = {
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.PDF: "application/pdf",
}


class ReportError(DomainError):
    """Raised before anything is stored: a report that cannot be asked for or handed out."""


class ReportNotFound(ReportError):
    status_code = 404


class ReportNotReady(ReportError):
    status_code = 409


class _WeeklyReader:
    """Who the weekly job reads as: it sees the whole area the report is of. (Who may download the report is
    decided per user, by the report's area, in report_download.)"""

    is_authenticated = True
    is_active = True
    is_superuser = True
    pk = None
    role = None


def keep_days(kind: str) -> int:
    if kind == ReportKind.WEEKLY:
        return settings.QIAOMEN_REPORTS_WEEKLY_KEEP_DAYS
    return settings.QIAOMEN_REPORTS_KEEP_DAYS


def campaign_touches_area(*, campaign: Campaign, area: Area) -> bool:
    """The campaign's scope covers the area, or lies (partly) inside it."""
    return any(area.path.startswith(p) or p.startswith(area.path)
               for p in campaign.areas.values_list("path", flat=True))


def report_title(*, area: Area, round: Round | None, week_of: dt.date | None = None) -> str:
    """清流街道覆盖情况报表（第1轮） / 清流街道覆盖情况周报（2026-11-02 至 2026-11-08）."""
    if week_of is not None:
        return f"{area.name}覆盖情况周报（{week_of:%Y-%m-%d} 至 {week_of + dt.timedelta(days=6):%Y-%m-%d}）"
    return f"{area.name}覆盖情况报表（{f'第{round.number}轮' if round else '整个行动'}）"


def report_filename(report: Report) -> str:
    """The name a download is saved under, e.g. 覆盖报表_清流街道_第1轮_20261105.xlsx."""
    if report.round_id:
        part = f"第{report.round.number}轮"
    else:
        part = "周报" if report.kind == ReportKind.WEEKLY else "整个行动"
    when = timezone.localtime(report.requested_at)
    return f"覆盖报表_{report.area.name}_{part}_{when:%Y%m%d}_{report.pk}.{report.format}"


def _schedule(report: Report) -> None:
    from server.common.soon import task_send
    from server.reports import tasks

    def send() -> None:
        if not task_send(tasks.report_generate, report.pk):
            Report.objects.filter(pk=report.pk).update(
                status=ReportStatus.FAILED, step="",
                error="任务队列暂不可用，请稍后重新申请 / the task queue is unavailable; request the report again")

    transaction.on_commit(send)


@transaction.atomic
def report_request(*, user: User, area: Area, campaign: Campaign, round: Round | None = None,
                   format: str = ReportFormat.XLSX) -> Report:
    """Ask for a report of `area` (a township, district or city of the user's territory) for one round of the
    campaign or the whole campaign; it is made after commit (Celery task, inline without a broker)."""
    if not permissions.can_request_reports(user):
        raise ReportError("not_allowed", "报表供乡镇街道、区县、市和派出所工作人员使用，您的角色不能生成报表",
                          "Reports are for township, district, city and station staff; your role cannot ask for one",
                          field="area")
    if not permissions.can_request_report(user, area):
        raise ReportError("area_outside_territory", f"区域“{area.name}”不在您的辖区内，不能生成报表",
                          f"The area {area.code} is not in your territory", field="area")
    if area.level not in REPORT_LEVELS:
        raise ReportError("bad_level", "报表只按乡镇街道、区县或市生成，请选择上级区域",
                          "Reports are made for a township, district or city", field="area")
    if format not in ReportFormat.values:
        raise ReportError("bad_format", "格式应为 xlsx 或 pdf", "The format must be xlsx or pdf", field="format")
    if not campaign_touches_area(campaign=campaign, area=area):
        raise ReportError("campaign_outside_area", f"“{campaign.name}”不在“{area.name}”开展",
                          f"The campaign does not cover {area.code}", field="campaign")
    if round is not None and round.campaign_id != campaign.pk:
        raise ReportError("round_of_other_campaign", f"第{round.number}轮不属于“{campaign.name}”",
                          "The round belongs to another campaign", field="round")
    now = timezone.now()
    report = Report.objects.create(
        area=area, campaign=campaign, round=round, format=format, kind=ReportKind.REQUESTED,
        title=report_title(area=area, round=round), requested_by=user, requested_at=now,
        step="排队等待生成 / Queued", expires_at=now + dt.timedelta(days=keep_days(ReportKind.REQUESTED)),
    )
    _schedule(report)
    return report


def _progress(report_id: int, percent: int, step: str) -> None:
    # a plain UPDATE, committed at once outside a transaction: the page polling the report sees it move
    Report.objects.filter(pk=report_id).update(progress=min(max(percent, 0), 99), step=step[:200])


def _reader(report: Report):
    if report.kind == ReportKind.WEEKLY:
        return _WeeklyReader()
    user = report.requested_by
    if user is None or not permissions.can_request_report(user, report.area):
        raise ReportError("requester_lost_access", "申请人已无权查看该区域，报表未生成",
                          "The requester no longer has access to this area; the report was not made")
    return user


def report_generate(*, report_id: int) -> Report:
    """Make the report's file, recording progress on the row; a failure is recorded (Chinese / English), not raised.

    Safe to run twice: a report already done is left as it is.
    """
    report = Report.objects.select_related("area", "campaign", "round", "requested_by").get(pk=report_id)
    if report.status == ReportStatus.DONE:
        return report
    Report.objects.filter(pk=report_id).update(status=ReportStatus.RUNNING, started_at=timezone.now(), progress=2,
                                               step="开始生成 / Starting", error="")
    try:
        content = content_build(user=_reader(report), area=report.area, campaign=report.campaign,
                                round=report.round, title=report.title,
                                progress=lambda p, s: _progress(report_id, p, s))
        _progress(report_id, 75, f"生成{report.format.upper()}文件 / Rendering {report.format.upper()}")
        if report.format == ReportFormat.PDF:
            from server.reports.pdf import report_pdf
            body = report_pdf(content)
        else:
            from server.reports.xlsx import report_xlsx
            body = report_xlsx(content)
        _progress(report_id, 95, "保存文件 / Saving")
        report.file.save(report_filename(report), ContentFile(body), save=False)
        rows = content_rows(content)
    except Exception as exc:  # noqa: BLE001 — whatever went wrong, the requester must see it on the page
        log.exception("report %s failed", report_id)
        if isinstance(exc, DomainError):
            message = exc.message
        elif isinstance(exc, CJKFontMissing):
            message = str(exc)  # already Chinese / English, naming the package to install
        else:
            message = f"生成报表时出错：{exc} / The report could not be made: {exc}"
        Report.objects.filter(pk=report_id).update(status=ReportStatus.FAILED, error=message[:2000],
                                                   step="失败 / Failed", finished_at=timezone.now())
    else:
        Report.objects.filter(pk=report_id).update(status=ReportStatus.DONE, progress=100, step="已完成 / Done",
                                                   file=report.file.name, size=len(body), rows=rows,
                                                   finished_at=timezone.now())
    report.refresh_from_db()
    return report


def content_rows(content) -> int:
    """Data rows a report holds (area tables, rounds, days, teams, workers): what its export audit counts."""
    return (sum(len(level.rows) for level in content.levels) + len(content.rounds) + len(content.days)
            + len(content.teams) + len(content.workers))


@dataclass
class ReportDownload:
    file: File
    filename: str
    content_type: str


def report_download(*, user: User, report: Report) -> ReportDownload:
    """Hand out a finished report's file to a user whose territory holds its area.

    Every download (page and API) comes through here, and each is recorded in the audit trail (who, which report,
    how many rows) by export_record.
    """
    if not permissions.can_view_report(user, report):
        raise ReportNotFound("not_found", "报表不存在", "No such report")
    if report.status != ReportStatus.DONE or not report.file:
        raise ReportNotReady("not_ready", f"报表尚未生成完成（{report.get_status_display()}）",
                             "The report is not ready yet")
    try:
        handle = report.file.open("rb")
    except FileNotFoundError:
        raise ReportNotFound("file_gone", "报表文件已不存在（可能已过保留期），请重新生成",
                             "The report's file is gone (past its retention?); request it again") from None
    from server.common.exports import export_record

    export_record(user=user, what=f"report:{report.format}", rows=report.rows or 0, params={
        "report": report.pk, "area": report.area, "campaign": report.campaign_id, "round": report.round_id,
        "kind": report.kind, "title": report.title})
    return ReportDownload(file=handle, filename=report_filename(report), content_type=CONTENT_TYPES[report.format])


def _week_townships(campaign: Campaign):
    paths = list(campaign.areas.values_list("path", flat=True))
    for township in Area.objects.filter(level=AreaLevel.TOWNSHIP).order_by("code"):
        if any(township.path.startswith(p) or p.startswith(township.path) for p in paths):
            yield township


@transaction.atomic
def reports_weekly_create(*, today: dt.date | None = None) -> list[Report]:
    """One XLSX and one PDF report of the whole campaign for every township of every campaign that had a round
    open in the week before `today` (the Celery beat job, Monday mornings). Run twice, it adds nothing."""
    today = today or timezone.localdate()
    week_of = today - dt.timedelta(days=today.weekday() + 7)  # Monday of the week just past
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(week_of, dt.time.min, tzinfo=tz)
    end = start + dt.timedelta(days=7)
    open_in_week = Round.objects.filter(opened_at__lt=end).filter(Q(closed_at__isnull=True) | Q(closed_at__gte=start))
    campaigns = Campaign.objects.filter(pk__in=open_in_week.values("campaign_id")).order_by("pk")
    made = []
    now = timezone.now()
    for campaign in campaigns:
        for township in _week_townships(campaign):
            for fmt in (ReportFormat.XLSX, ReportFormat.PDF):
                report, created = Report.objects.get_or_create(
                    area=township, campaign=campaign, kind=ReportKind.WEEKLY, format=fmt, week_of=week_of,
                    defaults={"title": report_title(area=township, round=None, week_of=week_of),
                              "requested_at": now, "step": "排队等待生成 / Queued",
                              "expires_at": now + dt.timedelta(days=keep_days(ReportKind.WEEKLY))},
                )
                if created:
                    _schedule(report)
                    made.append(report)
    return made


def reports_prune(*, now: dt.datetime | None = None) -> int:
    """Delete reports past their retention, files first; returns how many went."""
    now = now or timezone.now()
    gone = 0
    for report in Report.objects.filter(expires_at__lt=now):
        if report.file:
            report.file.delete(save=False)
        report.delete()
        gone += 1
    return gone


__all__ = [
    "ReportDownload", "ReportError", "ReportNotFound", "ReportNotReady", "report_download",
    "report_generate", "report_request", "reports_prune", "reports_weekly_create",
]
