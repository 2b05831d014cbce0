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
from django.db import connection, transaction
from django.utils import timezone

from server.accounts import scoping
from server.accounts.models import AREA_ROLES, User
from server.campaigns.models import CellAssignment, Round, RoundStatus
from server.common.sql import in_ids, uuid_from_db
from server.visits.models import Visit, VisitSource
from server.visits.writing import VisitRow, visit_rows_insert

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

    id: str | uuid.UUID
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
    corrects: str | uuid.UUID | None = None


@dataclass
class VisitResult:
    id: str
    status: str  # accepted | duplicate | rejected
    code: str
    message: str
    flags: tuple[str, ...] = ()  # accepted visits: far, inaccurate, mock, clock (flagged, still accepted)


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
    """Per-batch look-ups in plain SQL, so a batch costs the same handful of queries whether it holds 1 visit or
    500 (and a single-visit push stays cheap)."""

    def __init__(self, user: User, items: list[VisitInput], keys: list[uuid.UUID | None]):
        self.user = user
        valid = [k for k in keys if k is not None]
        self.known = _existing_ids(valid)
        household_ids = {i.household for i in items if _db_int(i.household)}
        self.households = _households(household_ids)  # id → (cell id, lon, lat)
        self.rounds = _rounds({i.round for i in items if _db_int(i.round)})  # id → (status, campaign, opened)
        self.outcomes = _outcome_ids({c for _, c, _ in self.rounds.values()})  # (campaign, code) → id
        targets = {k for k in (_uuid_or_none(i.corrects) for i in items if i.corrects) if k is not None}
        self.corrected = _correction_targets(targets)  # id → (household, round, already corrected)
        self._cells = {h[0] for h in self.households.values() if h[0] is not None}
        self._held: dict[int, set[int]] = {}

    def held_cells(self, round_id: int) -> set[int]:
        """The batch's cells that the user may record visits in for this round."""
        if round_id not in self._held:
            self._held[round_id] = _held_cells(self.user, round_id, self._cells)
        return self._held[round_id]


def _db_int(value) -> bool:
    return type(value) is int and 0 < value < 2**63


def _rounds(ids: set[int]) -> dict[int, tuple[str, int, dt.datetime | None]]:
    """id → (status, campaign id, opened at)."""
    if not ids:
        return {}
    return {pk: (status, campaign, opened) for pk, status, campaign, opened in
            Round.objects.filter(id__in=ids).values_list("id", "status", "campaign_id", "opened_at")}


def clock_impossible(captured_at: dt.datetime, *, received_at: dt.datetime, opened_at: dt.datetime | None) -> bool:
    """The device time cannot be right: later than the server received the visit, or before the round was opened
    (no phone records a visit of a round it has not pulled), each beyond the allowed skew — the rule of
    server/visits/timing.py. A phone that was offline for hours and pushes later is not suspect."""
    return captured_at > received_at + CLOCK_SKEW or (opened_at is not None and captured_at < opened_at - CLOCK_SKEW)


def _outcome_ids(campaigns: set[int]) -> dict[tuple[int, str], int]:
    if not campaigns:
        return {}
    where, params = in_ids("campaign_id", campaigns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT campaign_id, code, id FROM campaigns_outcomecode WHERE {where}", params)
        return {(r[0], r[1]): r[2] for r in cursor.fetchall()}


def _held_cells(user: User, round_id: int, cells: set[int]) -> set[int]:
    if not cells:
        return set()
    where, params = in_ids("a.cell_id", cells)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT a.cell_id FROM campaigns_cellassignment a WHERE a.round_id = %s AND {where} AND "
            "(a.worker_id = %s OR a.team_id IN (SELECT m.team_id FROM accounts_team_members m WHERE m.user_id = %s))",
            [round_id, *params, user.pk, user.pk])
        held = {r[0] for r in cursor.fetchall()}
    if user.role in AREA_ROLES or user.is_superuser:
        # Planners may record visits (from paper sheets) in any assigned cell of their territory.
        assigned = CellAssignment.objects.filter(round_id=round_id, cell_id__in=cells).values("cell_id")
        held |= set(scoping.grid_cells_visible(user).filter(id__in=assigned).values_list("id", flat=True))
    return held


def _existing_ids(ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    where, params = in_ids("id", ids, "uuid")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM visits_visit WHERE {where}", params)
        return {uuid_from_db(r[0]) for r in cursor.fetchall()}


def _households(ids: set[int]) -> dict[int, tuple[int | None, float, float]]:
    if not ids:
        return {}
    where, params = in_ids("id", ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, cell_id, ST_X(location), ST_Y(location) FROM registry_household WHERE {where}",
                       params)
        return {r[0]: (r[1], r[2], r[3]) for r in cursor.fetchall()}


def _correction_targets(ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int, bool]]:
    if not ids:
        return {}
    where, params = in_ids("v.id", ids, "uuid")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT v.id, v.household_id, v.round_id, "
            f"EXISTS (SELECT 1 FROM visits_visit c WHERE c.corrects_id = v.id) FROM visits_visit v WHERE {where}",
            params)
        return {uuid_from_db(r[0]): (r[1], r[2], bool(r[3])) for r in cursor.fetchall()}


def _check(item: VisitInput, key: uuid.UUID, ctx: _Context, batch: dict[uuid.UUID, VisitRow],
           correcting: set[uuid.UUID], now: dt.datetime, source: str, device_id: str) -> tuple[str, VisitRow | None]:
    round = ctx.rounds.get(item.round) if type(item.round) is int else None
    if round is None:
        return "unknown_round", None
    status, campaign_id, opened_at = round
    if status == RoundStatus.CLOSED:
        return "round_closed", None
    if status != RoundStatus.OPEN:
        return "round_not_open", None
    household = ctx.households.get(item.household) if type(item.household) is int else None
    if household is None:
        return "unknown_household", None
    cell_id, hx, hy = household
    if cell_id is None or cell_id not in ctx.held_cells(item.round):
        return "not_assigned", None
    outcome_id = ctx.outcomes.get((campaign_id, item.outcome))
    if outcome_id is None:
        return "invalid_outcome", None
    try:
        captured_at = _parse_time(item.captured_at)
        fix_at = _parse_time(item.fix_at)
    except ValueError:
        return "bad_time", None
    if captured_at is None:
        return "bad_time", None
    lon = lat = None
    if item.lat is not None and item.lon is not None:
        lat, lon = float(item.lat), float(item.lon)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return "bad_coordinates", None
    corrects = None
    if item.corrects:
        corrects = _uuid_or_none(item.corrects)
        # The corrected visit is stored already, or came earlier in this batch.
        if corrects in batch:
            earlier = batch[corrects]
            target = (earlier.household_id, earlier.round_id, False)
        else:
            target = ctx.corrected.get(corrects) if corrects is not None else None
        if target is None or target[0] != item.household or target[1] != item.round:
            return "invalid_correction", None
        if target[2] or corrects in correcting:
            return "already_corrected", None
    distance = distance_m(lon, lat, hx, hy) if lon is not None and hx is not None else None
    accuracy = None if item.accuracy_m is None else float(item.accuracy_m)
    row = VisitRow(
        id=key, household_id=item.household, round_id=item.round, cell_id=cell_id, outcome_id=outcome_id,
        worker_id=ctx.user.pk, source=source, device_id=device_id or "", captured_at=captured_at, received_at=now,
        lon=lon, lat=lat, accuracy_m=accuracy, fix_at=fix_at, provider=item.provider or "",
        mock_location=bool(item.mock_location), leaflet=bool(item.leaflet), app_installed=bool(item.app_installed),
        hotline_explained=bool(item.hotline_explained), residents_met=max(0, int(item.residents_met or 0)),
        key_groups_met=list(item.key_groups_met or []), risk_note=item.risk_note or "", corrects_id=corrects,
        distance_m=distance,
        flag_far=distance is not None and distance > GPS_FAR_M,
        flag_inaccurate=source == VisitSource.APP and (accuracy is None or accuracy > GPS_ACCURACY_M),
        flag_mock=bool(item.mock_location),
        flag_clock=source == VisitSource.APP and clock_impossible(captured_at, received_at=now, opened_at=opened_at),
    )
    return "accepted", row


def _uuid_or_none(value) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _corrections_audit(*, user: User, rows: list[VisitRow]) -> None:
    """One audit entry per stored correction: which visit, outcome from → to, where, by whom (phone, paper, web)."""
    if not rows:
        return
    from server.audit.models import AuditAction
    from server.audit.services import AuditEvent, audit_record_many
    from server.campaigns.models import OutcomeCode
    from server.territory.models import GridCell

    old = {v["id"]: v for v in Visit.objects.filter(id__in=[r.corrects_id for r in rows]).values(
        "id", "outcome_id", "household__register_id")}
    codes = dict(OutcomeCode.objects.filter(
        id__in={r.outcome_id for r in rows} | {v["outcome_id"] for v in old.values()}).values_list("id", "code"))
    cells = GridCell.objects.in_bulk({r.cell_id for r in rows if r.cell_id is not None})
    events = []
    for r in rows:
        before = old.get(r.corrects_id, {})
        events.append(AuditEvent(
            action=AuditAction.VISIT_CORRECT, object_type="visits.visit", object_id=str(r.corrects_id),
            object_repr=f"住户 household {before.get('household__register_id', r.household_id)}",
            territory=cells.get(r.cell_id),
            changes={"correction": str(r.id), "round": r.round_id, "source": r.source,
                     "outcome": {"from": codes.get(before.get("outcome_id")), "to": codes.get(r.outcome_id)}},
        ))
    audit_record_many(actor=user, events=events)


@transaction.atomic(savepoint=False)  # inside a caller's transaction (the sync push) no savepoint is needed
def visits_record(
    *, user: User, items: list[VisitInput], source: str = VisitSource.APP, device_id: str = "",
    language: str = "zh-hans", now: dt.datetime | None = None,
) -> list[VisitResult]:
    """Check and store a batch of visits in one transaction; one result per item, in order.

    Idempotent: an id already stored answers `duplicate` and changes nothing; a rejected item never blocks others.
    A correction may point at a visit stored earlier or sent earlier in the same batch.
    """
    now = now or timezone.now()
    keys = [_uuid_or_none(i.id) for i in items]
    ctx = _Context(user, items, keys)
    batch: dict[uuid.UUID, VisitRow] = {}
    correcting: set[uuid.UUID] = set()
    answers: list[tuple[str, str, VisitRow | None]] = []  # (key, code, row)
    for item, key in zip(items, keys, strict=True):
        if key is None:
            answers.append((str(item.id), "bad_id", None))
        elif key in ctx.known or key in batch:
            answers.append((str(key), "duplicate", None))
        else:
            code, row = _check(item, key, ctx, batch, correcting, now, source, device_id)
            if row is not None:
                batch[key] = row
                if row.corrects_id is not None:
                    correcting.add(row.corrects_id)
            answers.append((str(key), code, row))
    inserted = visit_rows_insert(rows=list(batch.values()))
    skipped = [k for k in batch if k not in inserted]
    if skipped:
        # Stored by a concurrent request since the look-up (a duplicate), or a second correction of one visit.
        now_known = _existing_ids(skipped)
        lost = {k: ("duplicate" if k in now_known else "already_corrected") for k in skipped}
    else:
        lost = {}
    results = []
    for key, code, row in answers:
        if row is not None and row.id in lost:
            code, row = lost[row.id], None
        if row is not None:
            results.append(VisitResult(key, "accepted", "accepted", message("accepted", language), row.flags))
        else:
            status = "duplicate" if code == "duplicate" else "rejected"
            results.append(VisitResult(key, status, code, message(code, language)))
    _corrections_audit(user=user, rows=[r for r in batch.values() if r.id in inserted and r.corrects_id is not None])
    # Derived data is kept current after commit: the touched households' round states (walk lists, pull) and, through
    # the signal, coverage's figures of the touched cells.
    from server.visits.signals import visits_recorded
    from server.visits.state import household_round_states_schedule

    touched: dict[int, set[int]] = {}
    cells: dict[int, set[int]] = {}
    for row in batch.values():
        if row.id in inserted:
            touched.setdefault(row.round_id, set()).add(row.household_id)
            if row.cell_id is not None:
                cells.setdefault(row.round_id, set()).add(row.cell_id)
    household_round_states_schedule(round_households=touched)
    if cells:
        visits_recorded.send(sender=Visit, round_cells=cells)
    return results
