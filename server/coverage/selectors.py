"""Coverage figures of a round, or of a whole campaign, at any level of the tree: reads of the cell aggregates.

Every selector takes `round=` or `campaign=` (exactly one) and an optional `area_code` (an area's or a cell's code:
only its subtree), and counts only the grid cells the caller reaches (accounts.scoping): a row above the cell sums
the caller's cells under it, never more. Definitions: docs/coverage.md. Progress by day, teams and workers are in
server/coverage/productivity.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import F, QuerySet, Sum

from server.accounts import scoping
from server.accounts.models import User
from server.campaigns.models import Campaign, Round
from server.coverage.models import CellCoverage, CellKeyGroupCoverage
from server.registry.models import KeyGroup
from server.territory.models import Area, GridCell

LEVELS = ["city", "district", "township", "community", "cell"]
FIGURES = ["to_visit", "attempted", "reached", "nobody_home", "refused", "excluded", "vacant", "app_installs",
           "visits", "flagged_visits"]
# The aggregate rows' path from a cell up to the area of each level.
LEVEL_PATHS = {"cell": "cell", "community": "cell__community", "township": "cell__community__parent",
               "district": "cell__community__parent__parent", "city": "cell__community__parent__parent__parent"}


class CoverageQueryError(ValueError):
    """A bad query parameter: `parameter` names it, `zh` and `en` say what is wrong."""

    def __init__(self, parameter: str, zh: str, en: str):
        super().__init__(f"{parameter}: {en}")
        self.parameter, self.zh, self.en = parameter, zh, en


@dataclass(frozen=True)
class Target:
    """What is asked for: a round, or a campaign as a whole; the caller's cells under the area."""

    campaign: Campaign
    round: Round | None
    cells: QuerySet  # the grid cells counted

    def rows(self, model) -> QuerySet:
        """This target's rows of an aggregate model, restricted to the counted cells."""
        qs = model.objects.filter(round=self.round) if self.round is not None else \
            model.objects.filter(campaign=self.campaign, round__isnull=True)
        return qs.filter(cell__in=self.cells.values("id"))


def area_path(*, user: User, area_code: str) -> str:
    """The materialised path of an area or cell the caller reaches; CoverageQueryError('area') otherwise."""
    area = scoping.areas_visible(user).filter(code=area_code).values_list("path", flat=True).first()
    if area is None:
        area = scoping.grid_cells_visible(user).filter(code=area_code).values_list("path", flat=True).first()
    if area is None:
        raise CoverageQueryError("area", f"没有代码为 {area_code} 的区域或网格（或不在您的辖区内）",
                                 f"no area or grid cell with code {area_code} in your territory")
    return area


def coverage_target(*, user: User, round: Round | None = None, campaign: Campaign | None = None,
                    area_code: str | None = None) -> Target:
    """Resolve and check the common arguments of every coverage selector."""
    if (round is None) == (campaign is None):
        raise CoverageQueryError("round", "请给出 round（轮次）或 campaign（行动）之一",
                                 "give either round or campaign, not both and not neither")
    cells = scoping.grid_cells_visible(user)
    if area_code:
        cells = cells.filter(path__startswith=area_path(user=user, area_code=area_code))
    return Target(campaign=round.campaign if round is not None else campaign, round=round, cells=cells)


def coverage_rate(reached: int, to_visit: int, excluded: int) -> float | None:
    """reached ÷ (to visit − excluded), 4 decimals; None when nothing is left to visit."""
    base = to_visit - excluded
    return round(reached / base, 4) if base > 0 else None


def _group_figures(group: KeyGroup, residents: int, reached: int) -> dict:
    return {"name": group.name, "name_en": group.name_en, "residents": residents, "reached": reached,
            "coverage": round(reached / residents, 4) if residents else None}


def _key_groups(target: Target, key: str | None) -> dict:
    """area code → key-group code → {name, name_en, residents, reached, coverage}; with key None, only the inner
    dictionary, over every counted cell."""
    names = {g.pk: g for g in KeyGroup.objects.all()}
    fields = {"code": F(f"{key}__code")} if key else {}
    rows = (target.rows(CellKeyGroupCoverage).values("key_group_id", **fields)
            .annotate(n_residents=Sum("residents"), n_reached=Sum("reached")).order_by("key_group_id"))
    out: dict = defaultdict(dict)
    for row in rows:
        group = names[row["key_group_id"]]
        figures = _group_figures(group, row["n_residents"], row["n_reached"])
        if key:
            out[row["code"]][group.code] = figures
        else:
            out[group.code] = figures
    return out


def _figures(row: dict) -> dict:
    figures = {name: row[f"n_{name}"] or 0 for name in FIGURES}
    figures["coverage"] = coverage_rate(figures["reached"], figures["to_visit"], figures["excluded"])
    return figures


def coverage_by_area(*, user: User, round: Round | None = None, level: str, area_code: str | None = None,
                     campaign: Campaign | None = None) -> list[dict]:
    """One row per area of `level` (or per cell) with counted cells, ordered by code:

    {"id", "code", "name", "level", "to_visit", "attempted", "reached", "nobody_home", "refused", "excluded",
     "vacant", "app_installs", "visits", "flagged_visits", "coverage",
     "key_groups": {"elderly": {"name", "name_en", "residents", "reached", "coverage"}, …}}
    """
    if level not in LEVELS:
        raise CoverageQueryError("level", f"层级应为 {'、'.join(LEVELS)} 之一", f"level must be one of {LEVELS}")
    target = coverage_target(user=user, round=round, campaign=campaign, area_code=area_code)
    key = LEVEL_PATHS[level]
    rows = (target.rows(CellCoverage).values(area_id=F(f"{key}__id"), code=F(f"{key}__code"),
                                                name=F(f"{key}__name"))
            .annotate(**{f"n_{name}": Sum(name) for name in FIGURES}).order_by("code"))
    groups = _key_groups(target, key)
    return [{"id": r["area_id"], "code": r["code"], "name": r["name"], "level": level, **_figures(r),
             "key_groups": groups.get(r["code"], {})} for r in rows]


def coverage_summary(*, user: User, round: Round | None = None, campaign: Campaign | None = None,
                     area_code: str | None = None) -> dict:
    """The same figures as one row of coverage_by_area, summed over every counted cell (the whole answer)."""
    target = coverage_target(user=user, round=round, campaign=campaign, area_code=area_code)
    totals = target.rows(CellCoverage).aggregate(**{f"n_{name}": Sum(name) for name in FIGURES})
    groups = _key_groups(target, None)
    return {**_figures(totals), "cells": target.rows(CellCoverage).count(), "key_groups": dict(groups)}


def coverage_areas_named(*, codes: list[str]) -> dict[str, str]:
    """code → name of areas and cells (for reports that list codes)."""
    names = dict(Area.objects.filter(code__in=codes).values_list("code", "name"))
    names.update(GridCell.objects.filter(code__in=codes).values_list("code", "name"))
    return names


__all__ = ["LEVELS", "FIGURES", "CoverageQueryError", "Target", "coverage_target", "coverage_by_area",
           "coverage_summary", "coverage_rate", "area_path"]
