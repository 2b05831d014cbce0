"""The coverage map page: cells and areas coloured by coverage, drill-down to the households, numbers panel.

The page holds no figures of its own: it reads GET /api/v1/coverage/geojson and /api/v1/coverage/households (the
same selectors as the API and the reports). The view only says which campaigns and rounds the user may pick,
where the drill-down starts, and the legend.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from server.accounts import scoping
from server.accounts.models import AREA_ROLES
from server.campaigns import selectors as campaign_selectors
from server.coverage import geo
from server.territory.models import LEVEL_ORDER

NEXT_LEVEL = {"city": "district", "district": "township", "township": "community", "community": "cell"}


def _start(user) -> dict:
    """Where the drill-down starts: the level below the user's own area (one area), or the level of their areas
    (several), or the cells for field roles."""
    if user.role not in AREA_ROLES and not user.is_superuser:
        return {"level": "cell", "area": "", "name": "我的网格 My cells"}
    areas = list(user.areas.order_by("path")) if not user.is_superuser else []
    if not areas:
        return {"level": "district", "area": "", "name": "全部 All"}
    top = min(LEVEL_ORDER.index(a.level) for a in areas)
    tops = [a for a in areas if LEVEL_ORDER.index(a.level) == top]
    if len(tops) == 1:
        return {"level": NEXT_LEVEL[tops[0].level], "area": tops[0].code, "name": tops[0].name}
    return {"level": tops[0].level, "area": "", "name": "我的辖区 My territory"}


def _start_at(user, code: str) -> dict | None:
    """Start at an area or cell of the user's territory (links from reports: ?area=<code>)."""
    area = scoping.areas_visible(user).filter(code=code).first()
    if area is not None:
        return {"level": NEXT_LEVEL[area.level], "area": area.code, "name": area.name}
    cell = scoping.grid_cells_visible(user).filter(code=code).first()
    if cell is not None:
        return {"level": "cell", "area": cell.code, "name": cell.name}
    return None


@login_required
def coverage_map_page(request):
    campaigns = [
        {"id": c.pk, "name": c.name,
         "rounds": [{"id": r.pk, "number": r.number, "status": r.status, "status_label": r.get_status_display()}
                    for r in sorted(c.rounds.all(), key=lambda r: r.number)]}
        for c in campaign_selectors.campaign_list(user=request.user).prefetch_related("rounds").order_by("-starts_on")
    ]
    config = {
        "campaigns": campaigns,
        "start": _start_at(request.user, request.GET.get("area", "")) or _start(request.user), "next_level": NEXT_LEVEL,
        "legend": [{"class": key, "colour": colour, "label": label} for _, key, colour, label in geo.CLASSES]
        + [{"class": geo.NO_FIGURES[0], "colour": geo.NO_FIGURES[1], "label": geo.NO_FIGURES[2]}],
        "round": request.GET.get("round", ""),
        "tile_url": settings.QIAOMEN_TILE_URL, "tile_attribution": settings.QIAOMEN_TILE_ATTRIBUTION,
        "tile_crs": settings.QIAOMEN_TILE_CRS,
    }
    return render(request, "coverage/map.html", {"config": config})
