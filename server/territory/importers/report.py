"""What a boundary import found and did, feature by feature, in Chinese with English."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum


class Action(str, Enum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"


ACTION_LABELS = {
    Action.CREATE: "新建 create",
    Action.UPDATE: "更新 update",
    Action.UNCHANGED: "未变 unchanged",
    Action.REJECTED: "拒绝 rejected",
}
CHANGE_LABELS = {"name": "名称 name", "geom": "边界 boundary", "parent": "上级 parent"}


@dataclass(frozen=True)
class Issue:
    """One warning or rejection reason: a stable machine-readable `kind` and a bilingual message."""

    kind: str
    message: str
    # Codes of other features/records the issue is about (e.g. the cell this one overlaps).
    other_codes: tuple[str, ...] = ()
    area_m2: float | None = None

    def __str__(self) -> str:
        return self.message


@dataclass
class FeatureOutcome:
    """The verdict on one feature of the file."""

    fid: int | None
    code: str | None
    name: str | None
    action: Action = Action.CREATE
    changed: list[str] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    rejection: Issue | None = None

    def reject(self, kind: str, message: str, **extra) -> None:
        self.action = Action.REJECTED
        self.rejection = Issue(kind, message, **extra)

    def warn(self, kind: str, message: str, **extra) -> None:
        self.warnings.append(Issue(kind, message, **extra))

    @property
    def label(self) -> str:
        """How the feature is named in the report: its code, else its position in the file."""
        return self.code or f"#{self.fid}"


@dataclass
class BoundaryImportReport:
    """Everything an import (or a dry run) decided; `features` keeps the file's order."""

    source: str
    layer: str
    level: str
    dry_run: bool
    srs: str = ""
    features: list[FeatureOutcome] = field(default_factory=list)
    # File-wide remarks: encoding fallback, CRS assumed, parents without boundaries, ...
    notes: list[str] = field(default_factory=list)
    households_reassigned: int | None = None
    paths_rewritten: int = 0

    def with_action(self, action: Action) -> list[FeatureOutcome]:
        return [f for f in self.features if f.action == action]

    def codes(self, action: Action) -> list[str]:
        return [f.label for f in self.with_action(action)]

    @property
    def counts(self) -> dict[str, int]:
        return {a.value: len(self.with_action(a)) for a in Action}

    @property
    def warning_count(self) -> int:
        return sum(len(f.warnings) for f in self.features)

    def warnings_of(self, kind: str) -> list[tuple[FeatureOutcome, Issue]]:
        return [(f, w) for f in self.features for w in f.warnings if w.kind == kind]


def _codes_brief(codes: list[str], limit: int = 20) -> str:
    if not codes:
        return ""
    shown = ", ".join(codes[:limit])
    more = f" … (+{len(codes) - limit})" if len(codes) > limit else ""
    return f": {shown}{more}"


def report_lines(report: BoundaryImportReport, *, verbose: bool = True) -> Iterator[tuple[str, str]]:
    """The report as (style, text) lines; style is "", "warning", "error" or "success".

    `verbose` False leaves out features that were imported without any warning.
    """
    mode = "试运行，不写入 dry run, nothing written" if report.dry_run else "导入 import"
    yield "", f"{mode}: {report.source} [{report.layer}] 层级 level={report.level} 坐标系 CRS: {report.srs}"
    for note in report.notes:
        yield "warning", f"  注意 note: {note}"
    for outcome in report.features:
        if not verbose and not outcome.warnings and outcome.action != Action.REJECTED:
            continue
        head = f"[{ACTION_LABELS[outcome.action]}] {outcome.label}"
        if outcome.name:
            head += f" {outcome.name}"
        if outcome.code and outcome.fid is not None and outcome.action == Action.REJECTED:
            head += f" (要素 feature #{outcome.fid})"
        if outcome.changed:
            head += " — " + ", ".join(CHANGE_LABELS.get(c, c) for c in outcome.changed)
        if outcome.rejection is not None:
            yield "error", f"{head}: {outcome.rejection.message}"
        else:
            yield "", head
        for issue in outcome.warnings:
            yield "warning", f"    警告 warning: {issue.message}"
    counts = report.counts
    yield "success" if not counts["rejected"] else "warning", (
        f"汇总 summary{' (试运行 dry run)' if report.dry_run else ''}: "
        f"新建 create {counts['create']} / 更新 update {counts['update']} / 未变 unchanged {counts['unchanged']} / "
        f"拒绝 rejected {counts['rejected']} / 警告 warnings {report.warning_count}"
    )
    for action in (Action.CREATE, Action.UPDATE, Action.UNCHANGED, Action.REJECTED):
        codes = report.codes(action)
        if codes:
            yield "", f"  {ACTION_LABELS[action]} {len(codes)}{_codes_brief(codes)}"
    if report.paths_rewritten:
        yield "", f"  下级路径已更新 descendant paths rewritten: {report.paths_rewritten}"
    if report.households_reassigned is not None:
        yield "", f"  住户重新分配网格 households re-assigned to cells: {report.households_reassigned}"
