"""Figures counted in plain Python over the raw households, residents, visits and outcome codes: a different path
from the coverage selectors, the state table and the aggregate tables, to check the reports against."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings

from server.campaigns.models import Campaign, OutcomeCode, Round
from server.registry.models import Household, HouseholdStatus, Resident
from server.visits.models import Visit

BEIJING = dt.timezone(dt.timedelta(hours=8))
LEVELS = ["city", "district", "township", "community", "cell"]


@dataclass
class Target:
    """A household a round (or the campaign) must visit, with its uncorrected visits in time order."""

    household: Household
    visits: list = field(default_factory=list)


def _live_visits() -> list[Visit]:
    """Uncorrected visits in the order they happened: by effective time (the device's unless impossible), then
    by receipt."""
    corrected = set(Visit.objects.filter(corrects__isnull=False).values_list("corrects_id", flat=True))
    live = [v for v in Visit.objects.select_related("round", "worker") if v.pk not in corrected]
    return sorted(live, key=lambda v: (_effective_at(v), v.received_at))


def _effective_at(v: Visit) -> dt.datetime:
    skew = dt.timedelta(seconds=float(getattr(settings, "QIAOMEN_CLOCK_SKEW_S", 900)))
    at = v.captured_at
    if at > v.received_at + skew or (v.round.opened_at and at < v.round.opened_at - skew):
        at = v.received_at
    return at


def targets(*, round: Round | None = None, campaign: Campaign | None = None, under_path: str) -> list[Target]:
    """Round 1: every occupied household under the campaign's areas; round k: minus those settled before (an
    uncorrected visit of an earlier round whose outcome does not send it back). The campaign: round 1's list with
    the visits of every round."""
    campaign = campaign or round.campaign
    codes = {o.pk: o for o in OutcomeCode.objects.filter(campaign=campaign)}
    live = [v for v in _live_visits() if v.round.campaign_id == campaign.pk]
    settled = {v.household_id for v in live if round is not None and v.round.number < round.number
               and not codes[v.outcome_id].revisit}
    mine = defaultdict(list)
    for v in live:
        if round is None or v.round_id == round.pk:
            mine[v.household_id].append(v)
    paths = list(campaign.areas.values_list("path", flat=True))
    out = []
    for h in Household.objects.select_related("cell", "community").order_by("pk"):
        if h.cell is None or not h.cell.path.startswith(under_path) or h.status != HouseholdStatus.OCCUPIED:
            continue
        if any(h.community.path.startswith(p) for p in paths) and h.pk not in settled:
            out.append(Target(h, mine.get(h.pk, [])))
    return out


def _reached(t: Target, codes) -> bool:
    return any(codes[v.outcome_id].reached for v in t.visits)


def _last(t: Target, codes, by_round: bool):
    """The outcome that stands: the latest visit's (of the latest round that visited, for a campaign)."""
    if by_round:
        latest = max(v.round.number for v in t.visits)
        return codes[[v for v in t.visits if v.round.number == latest][-1].outcome_id]
    return codes[t.visits[-1].outcome_id]


def figures(*, round: Round | None = None, campaign: Campaign | None = None, level: str,
            under_path: str) -> dict[str, dict]:
    """area (or cell) code of `level` → the figures of the coverage API."""
    codes = {o.pk: o for o in OutcomeCode.objects.filter(campaign=campaign or round.campaign)}
    depth = LEVELS.index(level)
    out: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for t in targets(round=round, campaign=campaign, under_path=under_path):
        f = out[t.household.cell.path.strip("/").split("/")[depth]]
        f["to_visit"] += 1
        if not t.visits:
            continue
        f["attempted"] += 1
        reached = _reached(t, codes)
        f["reached"] += reached
        last = _last(t, codes, by_round=round is None)
        if not reached:
            f["nobody_home"] += last.code == "nobody_home"
            f["refused"] += last.code == "refused"
            f["excluded"] += last.excluded
        f["app_installs"] += any(v.app_installed for v in t.visits)
        f["visits"] += len(t.visits)
        f["flagged_visits"] += sum(1 for v in t.visits if v.flag_far or v.flag_inaccurate or v.flag_mock
                                   or v.flag_clock)
    for f in out.values():
        base = f["to_visit"] - f["excluded"]
        f["coverage"] = f["reached"] / base if base > 0 else None
    return out


def effective_day(v: Visit) -> dt.date:
    """The device time unless impossible (after receipt, or before the round opened, beyond the skew)."""
    return _effective_at(v).astimezone(BEIJING).date()


def reached_by_day(*, round: Round, under_path: str) -> dict[dt.date, int]:
    """Households first reached face to face on each day."""
    codes = {o.pk: o for o in OutcomeCode.objects.filter(campaign=round.campaign)}
    days: dict[dt.date, int] = defaultdict(int)
    for t in targets(round=round, under_path=under_path):
        reaching = [effective_day(v) for v in t.visits if codes[v.outcome_id].reached]
        if reaching:
            days[min(reaching)] += 1
    return days


def workers(*, round: Round, under_path: str) -> dict[str, dict]:
    """username → visits, households visited and reached by their own visits, active days."""
    codes = {o.pk: o for o in OutcomeCode.objects.filter(campaign=round.campaign)}
    out: dict[str, dict] = defaultdict(lambda: {"visits": 0, "attempted": set(), "reached": set(), "days": set()})
    for t in targets(round=round, under_path=under_path):
        for v in t.visits:
            w = out[v.worker.username]
            w["visits"] += 1
            w["attempted"].add(t.household.pk)
            if codes[v.outcome_id].reached:
                w["reached"].add(t.household.pk)
            w["days"].add(effective_day(v))
    return {u: {"visits": w["visits"], "households_attempted": len(w["attempted"]),
                "households_reached": len(w["reached"]), "active_days": len(w["days"])} for u, w in out.items()}


def key_groups(*, round: Round, under_path: str) -> dict[str, dict]:
    """key-group code → residents of the households to visit, and of those reached (elderly: 60 or older in the
    campaign's first year; other groups as tagged)."""
    codes = {o.pk: o for o in OutcomeCode.objects.filter(campaign=round.campaign)}
    year = round.campaign.starts_on.year
    out: dict[str, dict] = defaultdict(lambda: {"residents": 0, "reached": 0})
    for t in targets(round=round, under_path=under_path):
        reached = _reached(t, codes)
        for resident in Resident.objects.filter(household=t.household).prefetch_related("key_groups"):
            groups = {g.code for g in resident.key_groups.all()}
            if resident.birth_year is not None and year - resident.birth_year >= 60:
                groups.add("elderly")
            for g in groups:
                out[g]["residents"] += 1
                out[g]["reached"] += reached
    return out
