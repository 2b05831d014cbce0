"""The audit trail as CSV or XLSX, for administrators; the export itself is audited (server/common/exports.py)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict

from django.utils import timezone

from server.audit import selectors
from server.audit.models import AuditAction
from server.common.errors import DomainError

MAX_ROWS = 200_000
HEADER = [
    ("at", "时间 when"), ("actor_username", "操作人 who"), ("actor_role", "角色 role"), ("action", "操作 action"),
    ("action_label", "操作说明 action label"), ("object_type", "对象类型 object type"),
    ("object_id", "对象编号 object id"), ("object_repr", "对象 object"), ("territory_code", "辖区 territory"),
    ("changes", "变更内容 what changed"), ("reason", "原因 reason"), ("rows", "导出行数 rows"),
    ("ip", "IP 地址 IP"), ("device_id", "设备 device"),
]
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class AuditExportError(DomainError):
    pass


def _values(entry) -> list:
    import json

    labels = dict(AuditAction.choices)
    return [
        timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"), entry.actor_username or "系统 system",
        entry.actor_role, entry.action, labels.get(entry.action, entry.action), entry.object_type, entry.object_id,
        entry.object_repr, entry.territory_code, json.dumps(entry.changes, ensure_ascii=False) if entry.changes else "",
        entry.reason, "" if entry.rows is None else entry.rows, entry.ip or "", entry.device_id,
    ]


def _safe_cell(value):
    """Spreadsheet formula injection: text starting with = + - @ is shown as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def audit_export(*, user, filters: selectors.AuditFilters, fmt: str, queryset=None) -> tuple[bytes, str, str, int]:
    """→ (file body, file name, content type, rows). Refused for users who may not read the trail. `queryset`
    (the admin's filtered list) narrows further; the caller's territory always applies."""
    from server.common.exports import export_record

    if not selectors.can_view_audit(user):
        raise AuditExportError("forbidden", "您无权导出审计日志", "You may not export the audit trail")
    if fmt not in CONTENT_TYPES:
        raise AuditExportError("bad_format", "格式应为 csv 或 xlsx", "The format must be csv or xlsx", field="format")
    qs = selectors.audit_entry_list(user=user, filters=filters)
    if queryset is not None:
        qs = qs.filter(pk__in=queryset.values("pk"))
    total = qs.count()
    if total > MAX_ROWS:
        raise AuditExportError("too_many_rows", f"共 {total} 条，超过 {MAX_ROWS} 条上限，请缩小时间范围",
                               f"{total} entries, over the limit of {MAX_ROWS}: narrow the dates")
    entries = qs.iterator(chunk_size=2000)
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")  # Excel opens UTF-8 CSV with a BOM correctly
        writer = csv.writer(out)
        writer.writerow([label for _, label in HEADER])
        rows = 0
        for entry in entries:
            writer.writerow([_safe_cell(v) for v in _values(entry)])
            rows += 1
        body = out.getvalue().encode("utf-8")
    else:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("审计日志 audit")
        ws.append([label for _, label in HEADER])
        rows = 0
        for entry in entries:
            ws.append([_safe_cell(v) for v in _values(entry)])
            rows += 1
        buf = io.BytesIO()
        wb.save(buf)
        body = buf.getvalue()
    export_record(user=user, what=f"audit:{fmt}", rows=rows,
                  params={k: v for k, v in asdict(filters).items() if v not in ("", None)})
    name = f"审计日志_{timezone.localdate():%Y%m%d}.{fmt}"
    return body, name, CONTENT_TYPES[fmt], rows
