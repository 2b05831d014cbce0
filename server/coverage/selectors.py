"""Coverage figures of a round at any level of the tree, from the incrementally kept household round states.

Per cell: households to visit (the round's derived households), attempted, reached face to face, nobody home,
refused, found vacant/moved/wrong address (taken out of the households to visit), app installs, GPS-flagged visits.
Cells roll up to community, township, district and city through their materialised paths.
Coverage = reached ÷ (households to visit − those found vacant, moved or at a wrong address).
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Q, Sum

from server.accounts import scoping
from server.accounts.models import User
from server.campaigns.models import Round
from server.campaigns.selectors import round_households
from server.territory.models import Area, GridCell

LEVELS = ["city", "district", "township", "community", "cell"]
FIGURES = ["to_visit", "attempted", "reached", "nobody_home", "refused", "excluded", "app_installs", "flagged_visits"]


def _cell_figures(*, round: Round, cells) -> dict[int, dict[str, int]]:
    from server.visits.state import HouseholdRoundState

    figures: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    targets = round_households(round=round).filter(cell__in=cells)
    for row in targets.values("cell_id").annotate(n=Count("id")):
        figures[row["cell_id"]]["to_visit"] = row["n"]
    states = (
        HouseholdRoundState.objects.filter(round=round, household__in=targets, visits__gt=0)
        .values("cell_id")
        .annotate(
            # names differ from the model's fields: an annotation named `reached` would shadow the field in filters
            n_attempted=Count("id"),
            n_reached=Count("id", filter=Q(reached=True)),
            n_nobody_home=Count("id", filter=Q(reached=False, outcome__code="nobody_home")),
            n_refused=Count("id", filter=Q(reached=False, outcome__code="refused")),
            n_excluded=Count("id", filter=Q(reached=False, outcome__excluded=True)),
            n_app_installs=Count("id", filter=Q(app_installed=True)),
            n_flagged_visits=Sum("flagged"),
        )
    )
    for row in states:
        f = figures[row["cell_id"]]
        for key in FIGURES[1:]:
            f[key] = row[f"n_{key}"] or 0
    return figures


def coverage_by_area(*, user: User, round: Round, level: str, area_code: str | None = None) -> list[dict]:
    """One row per area of `level` (or per cell) inside the caller's territory and under `area_code`."""
    if level not in LEVELS:
        raise ValueError(level)
    cells = scoping.grid_cells_visible(user)
    if area_code:
        cells = cells.filter(path__contains=f"/{area_code}/") | cells.filter(path__startswith=f"{area_code}/")
    cell_paths = dict(cells.values_list("id", "path"))
    figures = _cell_figures(round=round, cells=list(cell_paths))
    depth = LEVELS.index(level)
    rows: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for cell_id, f in figures.items():
        parts = cell_paths[cell_id].strip("/").split("/")
        if len(parts) <= depth:
            continue
        key = parts[depth]
        for name in FIGURES:
            rows[key][name] += f[name]
    model = GridCell if level == "cell" else Area
    names = dict(model.objects.filter(code__in=list(rows)).values_list("code", "name"))
    result = []
    for code in sorted(rows):
        f = rows[code]
        base = f["to_visit"] - f["excluded"]
        result.append({"code": code, "name": names.get(code, ""), "level": level, **f,
                       "coverage": round_(f["reached"] / base) if base > 0 else None})
    return result


def round_(value: float) -> float:
    return round(value, 4)
