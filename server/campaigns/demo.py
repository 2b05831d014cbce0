"""The demo campaign that `seed_demo` adds to the demo city: 清流街道's door-knock campaign, three rounds, the first
open, demo-worker holding their cells (with a few days of visits already made), the rest auto-assigned to teams,
and demo-chief able to plan all of it."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from django.utils import timezone

from server.accounts.models import Team, User
from server.campaigns import services
from server.campaigns.models import Campaign
from server.campaigns.walk_lists import walk_lists
from server.territory.models import Area, GridCell
from server.visits.models import VisitSource
from server.visits.services import VisitInput, visits_record

DEMO_NAMESPACE = uuid.UUID("5e1f0c2a-9b7d-4c3e-8f00-7169616f6d65")
ROUNDS = [(dt.date(2026, 11, 16), dt.date(2026, 12, 6)), (dt.date(2026, 12, 7), dt.date(2026, 12, 27)),
          (dt.date(2027, 1, 4), dt.date(2027, 1, 24))]
# (outcome, share, leaflet, app installed) for the visits already made in the open round
DEMO_OUTCOMES = [("reached", 0.62, True, True), ("nobody_home", 0.24, True, False), ("refused", 0.09, False, False),
                 ("vacant", 0.05, False, False)]


def demo_campaign_seed(
    *, township: Area, chief: User, worker: User, teams: list[Team], worker_cells: list[str], seed: int = 1,
    visited_share: float = 0.35,
) -> Campaign:
    """Create the demo campaign (deterministic for a seed)."""
    rng = random.Random(seed * 7919)
    campaign = services.campaign_create(
        name=f"{township.name}反诈敲门行动", areas=[township], starts_on=ROUNDS[0][0], ends_on=ROUNDS[-1][1],
        created_by=chief,
        description="民警、网格员、志愿者组成宣传小分队，逐户见面宣传常见诈骗手法、帮助安装国家反诈中心APP、讲解96110。",
    )
    rounds = [services.round_create(campaign=campaign, starts_on=a, ends_on=b) for a, b in ROUNDS]
    first = rounds[0]
    own_team = next(t for t in teams if t.members.filter(pk=worker.pk).exists())
    cells = list(GridCell.objects.filter(code__in=worker_cells).order_by("code"))
    for cell in cells:
        services.cell_assign(round=first, cell=cell, team=own_team, worker=worker, user=chief,
                             reason="网格员负责本人网格 grid worker's own cells")
    services.round_auto_assign(round=first, teams=teams, user=chief, reason="演示自动分配 demo auto-assign")
    services.round_open(round=first, user=chief)
    # The demo's history: the round was opened on its first morning, before the visits of the days after it (opened
    # now, every visit would be dated before the opening, i.e. flagged for an impossible device clock)
    first.opened_at = timezone.make_aware(dt.datetime.combine(ROUNDS[0][0], dt.time(8, 0)))
    first.save(update_fields=["opened_at"])
    _demo_visits(rng=rng, round=first, worker=worker, cells=cells, share=visited_share)
    return campaign


def _demo_visits(*, rng: random.Random, round, worker: User, cells: list[GridCell], share: float) -> None:
    """Visits demo-worker made on the first days of the round, walking each cell in order."""
    lists = walk_lists(round=round, cells=cells)
    for cell in cells:
        stops = lists.get(cell.pk, [])
        for i, stop in enumerate(stops[: int(len(stops) * share)]):
            code, leaflet, app = _pick_outcome(rng.random())
            day = ROUNDS[0][0] + dt.timedelta(days=2 + i // 25)
            at = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)) + dt.timedelta(minutes=7 * (i % 25)))
            item = VisitInput(
                id=str(uuid.uuid5(DEMO_NAMESPACE, f"{round.pk}:{stop.register_id}")), household=stop.household_id,
                round=round.pk, outcome=code, captured_at=at, lat=stop.lat + rng.uniform(-4e-5, 4e-5),
                lon=stop.lon + rng.uniform(-4e-5, 4e-5), accuracy_m=round_to(rng.uniform(4, 25)), fix_at=at,
                provider="gps", leaflet=leaflet, app_installed=app and rng.random() < 0.7,
                hotline_explained=code == "reached",
                residents_met=(1 + int(rng.random() < 0.4)) if code == "reached" else 0,
            )
            visits_record(user=worker, items=[item], source=VisitSource.APP, device_id="demo-phone",
                          now=at + dt.timedelta(minutes=3))


def _pick_outcome(r: float) -> tuple[str, bool, bool]:
    acc = 0.0
    for code, share, leaflet, app in DEMO_OUTCOMES:
        acc += share
        if r <= acc:
            return code, leaflet, app
    return DEMO_OUTCOMES[0][0], DEMO_OUTCOMES[0][2], DEMO_OUTCOMES[0][3]


def round_to(value: float) -> float:
    return round(value, 1)


def demo_campaigns_delete(*, path_prefix: str) -> int:
    """Delete every campaign whose scope lies under `path_prefix`, with its rounds, assignments and visits
    (corrections first: a corrected visit is protected by its correction). Returns campaigns deleted."""
    from server.campaigns.models import AssignmentChange, CellAssignment, Round
    from server.visits.models import Visit

    campaigns = Campaign.objects.filter(areas__path__startswith=path_prefix).distinct()
    ids = list(campaigns.values_list("id", flat=True))
    visits = Visit.objects.filter(round__campaign_id__in=ids)
    while visits.filter(corrects__isnull=False).exists():
        # the newest corrections first, so no visit is deleted while a correction still points at it
        visits.filter(corrects__isnull=False, corrected_by__isnull=True).delete()
    visits.delete()
    AssignmentChange.objects.filter(round__campaign_id__in=ids).delete()
    CellAssignment.objects.filter(round__campaign_id__in=ids).delete()
    Round.objects.filter(campaign_id__in=ids).delete()
    Campaign.objects.filter(id__in=ids).delete()
    return len(ids)
