"""Recording visits: the one place that checks a visit, flags what is implausible and stores it.

Used by the sync push, the paper walk-sheet import and any web form, so every visit meets the same rules.
A visit is accepted, a duplicate (its UUID is already stored: harmless), or rejected with a code and a message.
Plausibility problems (GPS far away or imprecise, mock location, device clock off) are flagged, never rejected.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from server.accounts import scoping
from server.accounts.models import AREA_ROLES, User
from server.campaigns.models import CellAssignment, OutcomeCode, Round, RoundStatus
from server.registry.models import Household
from server.visits.models import Visit, VisitSource

GPS_FAR_M = float(getattr(settings, "QIAOMEN_GPS_FAR_M", 150))
GPS_ACCURACY_M = float(getattr(settings, "QIAOMEN_GPS_ACCURACY_M", 100))
CLOCK_SKEW = dt.timedelta(seconds=float(getattr(settings, "QIAOMEN_CLOCK_SKEW_S", 900)))

MESSAGES = {
    "accepted": ("已接收", "Accepted"),
    "duplicate": ("已接收过（重复提交）", "Already received (duplicate)"),
    "bad_id": ("走访编号不是有效的 UUID", "The visit id is not a valid UUID"),
    "unknown_household": ("住户不存在", "Unknown household"),
    "unknown_round": ("轮次不存在", "Unknown round"),
    "round_closed": ("该轮次已结束，不再接收走访", "The round is closed"),
    "round_not_open": ("该轮次尚未开启", "The round is not open yet"),
    "not_assigned": ("该住户不在您本轮负责的网格内", "This household is not in a cell you hold for this round"),
    "invalid_outcome": ("走访结果代码无效", "Invalid outcome code for this campaign"),
    "invalid_correction": ("被更正的走访不存在或不属于同一住户和轮次",
                           "The corrected visit does not exist or is for another household or round"),
    "already_corrected": ("该走访已被更正过", "That visit has already been corrected"),
    "bad_time": ("时间格式不正确（应为 ISO 8601）", "Malformed time (ISO 8601 expected)"),
    "bad_coordinates": ("坐标超出范围", "Coordinates out of range"),
}


def message(code: str, language: str = "zh-hans") -> str:
    zh, en = MESSAGES[code]
    return en if language.startswith("en") else zh


@dataclass
class VisitInput:
    """A visit as it arrives (from the phone, a paper sheet or a form), before checks."""

    id: str
    household: int
    round: int
    outcome: str
    captured_at: dt.datetime | str
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    fix_at: dt.datetime | str | None = None
    provider: str = ""
    mock_location: bool = False
    leaflet: bool = False
    app_installed: bool = False
    hotline_explained: bool = False
    residents_met: int = 0
    key_groups_met: list[str] = field(default_factory=list)
    risk_note: str = ""
    corrects: str | None = None


@dataclass
class VisitResult:
    id: str
    status: str  # accepted | duplicate | rejected
    code: str
    message: str
    visit: Visit | None = None


def _parse_time(value) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError("bad_time") from exc
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, dt.timezone.utc)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(a))


class _Context:
    """Per-batch caches so a batch of 500 visits costs a handful of queries, not thousands."""

    def __init__(self, user: User):
        self.user = user
        self.rounds: dict[int, Round | None] = {}
        self.held: dict[int, set[int]] = {}
        self.outcomes: dict[int, dict[str, OutcomeCode]] = {}
        self.planner_cells: set[int] | None = None

    def round(self, round_id: int) -> Round | None:
        if round_id not in self.rounds:
            self.rounds[round_id] = Round.objects.filter(pk=round_id).first()
        return self.rounds[round_id]

    def held_cells(self, round: Round) -> set[int]:
        if round.pk not in self.held:
            from django.db.models import Q

            held = CellAssignment.objects.filter(Q(worker=self.user) | Q(team__members=self.user), round=round)
            cells = set(held.values_list("cell_id", flat=True))
            if self.user.role in AREA_ROLES or self.user.is_superuser:
                # Planners may record visits (from paper sheets) in any assigned cell of their territory.
                assigned = CellAssignment.objects.filter(round=round).values("cell_id")
                cells |= set(scoping.grid_cells_visible(self.user).filter(id__in=assigned).values_list("id", flat=True))
            self.held[round.pk] = cells
        return self.held[round.pk]

    def outcome(self, round: Round, code: str) -> OutcomeCode | None:
        if round.campaign_id not in self.outcomes:
            codes = OutcomeCode.objects.filter(campaign_id=round.campaign_id)
            self.outcomes[round.campaign_id] = {o.code: o for o in codes}
        return self.outcomes[round.campaign_id].get(code)


def _check(item: VisitInput, ctx: _Context, households: dict[int, Household], now: dt.datetime, source: str,
           device_id: str) -> tuple[str, Visit | None]:
    round = ctx.round(item.round)
    if round is None:
        return "unknown_round", None
    if round.status == RoundStatus.CLOSED:
        return "round_closed", None
    if round.status != RoundStatus.OPEN:
        return "round_not_open", None
    household = households.get(item.household)
    if household is None:
        return "unknown_household", None
    if household.cell_id is None or household.cell_id not in ctx.held_cells(round):
        return "not_assigned", None
    outcome = ctx.outcome(round, item.outcome)
    if outcome is None:
        return "invalid_outcome", None
    try:
        captured_at = _parse_time(item.captured_at)
        fix_at = _parse_time(item.fix_at)
    except ValueError:
        return "bad_time", None
    if captured_at is None:
        return "bad_time", None
    location = None
    if item.lat is not None and item.lon is not None:
        if not (-90 <= item.lat <= 90 and -180 <= item.lon <= 180):
            return "bad_coordinates", None
        location = Point(item.lon, item.lat, srid=4326)
    corrects = None
    if item.corrects:
        corrects = Visit.objects.filter(pk=item.corrects).select_related("corrected_by").first() \
            if _is_uuid(item.corrects) else None
        if corrects is None or corrects.household_id != household.pk or corrects.round_id != round.pk:
            return "invalid_correction", None
        if Visit.objects.filter(corrects=corrects).exists():
            return "already_corrected", None
    distance = distance_m(item.lon, item.lat, household.location.x, household.location.y) if location else None
    visit = Visit(
        id=uuid.UUID(item.id), household=household, round=round, cell_id=household.cell_id, outcome=outcome,
        worker=ctx.user, source=source, device_id=device_id, captured_at=captured_at, received_at=now,
        location=location, accuracy_m=item.accuracy_m, fix_at=fix_at, provider=item.provider or "",
        mock_location=bool(item.mock_location), leaflet=bool(item.leaflet), app_installed=bool(item.app_installed),
        hotline_explained=bool(item.hotline_explained), residents_met=max(0, int(item.residents_met or 0)),
        key_groups_met=list(item.key_groups_met or []), risk_note=item.risk_note or "", corrects=corrects,
        distance_m=distance,
        flag_far=distance is not None and distance > GPS_FAR_M,
        flag_inaccurate=source == VisitSource.APP and (item.accuracy_m is None or item.accuracy_m > GPS_ACCURACY_M),
        flag_mock=bool(item.mock_location),
        flag_clock=source == VisitSource.APP and abs(now - captured_at) > CLOCK_SKEW,
    )
    return "accepted", visit


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@transaction.atomic
def visits_record(
    *, user: User, items: list[VisitInput], source: str = VisitSource.APP, device_id: str = "",
    language: str = "zh-hans", now: dt.datetime | None = None,
) -> list[VisitResult]:
    """Check and store a batch of visits in one transaction; one result per item, in order.

    Idempotent: an id already stored answers `duplicate` and changes nothing; a rejected item never blocks others.
    """
    now = now or timezone.now()
    ctx = _Context(user)
    ids = [i.id for i in items if _is_uuid(i.id)]
    known = set(str(v) for v in Visit.objects.filter(pk__in=ids).values_list("id", flat=True))
    households = Household.objects.in_bulk({i.household for i in items if isinstance(i.household, int)})
    results, to_store, seen = [], [], set()
    for item in items:
        if not _is_uuid(item.id):
            results.append(VisitResult(str(item.id), "rejected", "bad_id", message("bad_id", language)))
            continue
        key = str(uuid.UUID(item.id))
        if key in known or key in seen:
            results.append(VisitResult(key, "duplicate", "duplicate", message("duplicate", language)))
            continue
        code, visit = _check(item, ctx, households, now, source, device_id)
        if visit is None:
            results.append(VisitResult(key, "rejected", code, message(code, language)))
            continue
        seen.add(key)
        to_store.append(visit)
        results.append(VisitResult(key, "accepted", "accepted", message("accepted", language), visit))
    Visit.objects.bulk_create(to_store, batch_size=500)
    # What coverage needs is kept current: after commit, the touched households' round states are refreshed.
    from server.visits.state import household_round_states_schedule

    touched: dict[int, set[int]] = {}
    for v in to_store:
        touched.setdefault(v.round_id, set()).add(v.household_id)
    household_round_states_schedule(round_households=touched)
    return results
