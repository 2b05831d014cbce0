"""The reports page: ask for a report of an area of your territory, watch it being made, download it.

The page talks to the reports API (progress by polling `GET /api/v1/reports/{id}`); downloads go through the API,
so through services.report_download like every other download.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from server.reports import selectors


@login_required
def report_page(request):
    areas = list(selectors.report_areas(user=request.user))
    campaigns = [
        {"id": c.pk, "name": c.name, "paths": [a.path for a in c.areas.all()],
         "rounds": [{"id": r.pk, "number": r.number, "status": r.get_status_display()}
                    for r in sorted(c.rounds.all(), key=lambda r: r.number)]}
        for c in selectors.report_campaigns(user=request.user)
    ]
    return render(request, "reports/page.html", {
        "areas": areas, "campaigns": campaigns, "reports": selectors.report_list(user=request.user)[:50],
        "selected_area": request.GET.get("area", ""), "selected_round": request.GET.get("round", ""),
        "keep_days": settings.QIAOMEN_REPORTS_KEEP_DAYS, "weekly_keep_days": settings.QIAOMEN_REPORTS_WEEKLY_KEEP_DAYS,
    })
