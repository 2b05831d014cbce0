"""The households-to-visit list of a round as XLSX: what a station chief hands a team ("still not reached in
3411020010010"), masked as on screen, and audited as every export is (server/common/exports.py)."""

from __future__ import annotations

from io import BytesIO

from django.utils import timezone
from openpyxl import Workbook

from server.accounts.models import User
from server.campaigns.models import Round
from server.common.errors import DomainError
from server.common.exports import export_record
from server.coverage.households import STATES, household_rows, round_households_query
from server.reports.tables import Column, Table
from server.reports.xlsx import table_sheet_write

EXPORT_MAX_ROWS = 200_000  # a whole district's list; a city's is asked for district by district
COLUMNS = [
    Column("cell", "网格", "Grid cell"), Column("community", "社区/村", "Community"),
    Column("register_id", "登记编号", "Register id"), Column("address", "地址", "Address"),
    Column("state", "状态", "State"), Column("outcome", "最近结果", "Latest outcome"),
    Column("visits", "走访次数", "Visits", "int"), Column("last_visit", "最近走访", "Last visit"),
    Column("residents", "人数", "Residents", "int"), Column("contact", "联系人（脱敏）", "Contact (masked)"),
]


class ExportTooLarge(DomainError):
    status_code = 413

    def __init__(self, rows: int):
        super().__init__("too_large", f"清单有 {rows} 户，超过 {EXPORT_MAX_ROWS} 户，请按区县或街道分别导出",
                         f"{rows} households: more than {EXPORT_MAX_ROWS}; export one district or township at a time",
                         rows=rows)


def round_households_xlsx(*, user: User, round: Round, area_code: str | None, state: str) -> tuple[bytes, int]:
    """The workbook and its number of rows; records the export in the audit trail."""
    qs = round_households_query(user=user, round=round, area_code=area_code, state=state)
    total = qs.count()
    if total > EXPORT_MAX_ROWS:
        raise ExportTooLarge(total)
    rows = household_rows(list(qs), round=round)
    zh_state = {k: v[0] for k, v in STATES.items()}
    table = Table(sheet="住户清单", title=f"{STATES[state][0]}住户清单", columns=COLUMNS, frozen_columns=3, rows=[
        [r.cell, r.community, r.register_id, r.address, zh_state[r.state], r.outcome_label or "未走访", r.visits,
         f"{timezone.localtime(r.last_visit_at):%Y-%m-%d %H:%M}" if r.last_visit_at else "", r.residents, r.contact]
        for r in rows])
    campaign = round.campaign
    wb = Workbook()
    table_sheet_write(wb.active, table, title=f"{campaign.name} · 第{round.number}轮 · {table.title}",
                      subtitle=f"{area_code or '全部辖区 whole territory'} · {STATES[state][1]} · 生成于 "
                               f"{timezone.localtime():%Y-%m-%d %H:%M}（北京时间）· 联系方式已脱敏 contacts masked")
    wb.active.title = table.sheet
    wb.properties.creator = "敲门 Qiaomen"
    buf = BytesIO()
    wb.save(buf)
    export_record(user=user, what="round_households:xlsx", rows=len(rows),
                  params={"round": round.pk, "area": area_code or "", "state": state})
    return buf.getvalue(), len(rows)
