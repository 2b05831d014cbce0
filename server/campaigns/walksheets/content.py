"""What a walk sheet shows, shared by the PDF and the XLSX: the heading and one row per stop of the walk list.

Minimum personal data on paper: an address, the household's register id and head counts. No names, no phones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from server.campaigns import selectors
from server.campaigns.models import CellAssignment, OutcomeCode, Round
from server.territory.models import GridCell

# The three things a visit hands out or explains, as (field of VisitInput, heading on the sheet).
MATERIALS = [
    ("leaflet", "发放资料"),
    ("app_installed", "安装反诈APP"),
    ("hotline_explained", "讲解96110"),
]


@dataclass(frozen=True)
class Outcome:
    code: str
    label: str
    label_en: str


@dataclass(frozen=True)
class SheetRow:
    number: int
    register_id: str
    address: str
    residents: int
    elderly: int
    state: str  # the household's latest outcome this round, as a label ("" when not visited yet)


@dataclass(frozen=True)
class Sheet:
    campaign: str
    round_id: int
    round_number: int
    starts_on: dt.date
    ends_on: dt.date
    cell_name: str
    cell_code: str
    holder: str  # "一队 · 张三", "" when the cell is not assigned
    outcomes: list[Outcome]
    rows: list[SheetRow]
    generated_at: dt.datetime

    @property
    def title(self) -> str:
        return f"{self.campaign} 第{self.round_number}轮 入户走访表"

    @property
    def round_text(self) -> str:
        return f"第{self.round_number}轮（{self.starts_on:%Y-%m-%d} 至 {self.ends_on:%Y-%m-%d}）"

    @property
    def cell_text(self) -> str:
        return f"{self.cell_name}（{self.cell_code}）"


def _with_suffix(value: str, suffix: str) -> str:
    """'3' → '3栋'; '3栋', 'A座' stay as they are (a non-digit ending already names the thing)."""
    value = (value or "").strip()
    return f"{value}{suffix}" if value and value[-1].isdigit() else value


def short_address(entry: selectors.WalkListEntry) -> str:
    """The address as a visitor reads it at the door, without the district/township/community prefix that is the
    same for the whole cell: '琅琊路12号 3栋1单元301室', '张庄组 5号'."""
    street = (entry.street or "").strip()
    if entry.unit or entry.room:
        door = _with_suffix(entry.building, "栋") + _with_suffix(entry.unit, "单元")
        room = (entry.room or "").strip()
        if entry.floor is not None and not room.startswith(str(entry.floor)):
            door += f"{entry.floor}层"
        door += _with_suffix(room, "室")
        return f"{street} {door}".strip()
    if entry.building:
        return f"{street} {_with_suffix(entry.building, '号')}".strip()
    return (entry.address or street or entry.register_id).strip()


def _holder(round: Round, cell: GridCell) -> str:
    a = CellAssignment.objects.filter(round=round, cell=cell).select_related("team", "worker").first()
    if a is None:
        return ""
    parts = []
    if a.team_id:
        parts.append(a.team.name)
    if a.worker_id:
        parts.append(a.worker.get_full_name() or a.worker.username)
    return " · ".join(parts)


def campaign_outcomes(*, campaign_id: int) -> list[Outcome]:
    return [
        Outcome(code=o.code, label=o.label, label_en=o.label_en)
        for o in OutcomeCode.objects.filter(campaign_id=campaign_id).order_by("order", "code")
    ]


def sheet_build(*, round: Round, cell: GridCell) -> Sheet:
    """Everything one walk sheet shows, in walk-list order."""
    outcomes = campaign_outcomes(campaign_id=round.campaign_id)
    labels = {o.code: o.label for o in outcomes}
    entries = selectors.walk_list(round=round, cell=cell)
    rows = [
        SheetRow(
            number=e.order, register_id=e.register_id, address=short_address(e), residents=e.residents,
            elderly=e.elderly, state=labels.get(e.state.outcome, e.state.outcome or "") if e.state else "",
        )
        for e in entries
    ]
    return Sheet(
        campaign=round.campaign.name, round_id=round.pk, round_number=round.number, starts_on=round.starts_on,
        ends_on=round.ends_on, cell_name=cell.name, cell_code=cell.code, holder=_holder(round, cell),
        outcomes=outcomes, rows=rows, generated_at=timezone.localtime(),
    )

