"""Writes of the sync app: device tokens, the pull (which records what it sent), the push (docs/sync-protocol.md)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from server.accounts.models import User
from server.accounts.services import user_territory
from server.audit.models import AuditAction
from server.audit.services import audit_record
from server.common.errors import DomainError
from server.sync import changeseq, selectors
from server.sync.auth import token_digest
from server.sync.models import Device, PullSnapshot


@dataclass
class IssuedToken:
    device: Device
    token: str  # shown once, never stored


def device_token_issue(*, username: str, password: str, device_id: str, device_name: str = "",
                       request=None) -> IssuedToken:
    """Check the password and give this (user, device) a new token; any earlier token of the device stops working.

    A wrong username or password gives the same answer (no user enumeration). Repeated failures for one username
    from one address lock it out for a while (django-axes, see server/accounts/throttling.py): 429 `locked_out`.
    A revoked device stays revoked: an administrator deletes its row to let it sign in again."""
    from server.accounts.throttling import authenticate_throttled

    user = authenticate_throttled(request=request, username=username, password=password)  # may raise LockedOut
    if user is None:
        # Outside any transaction: the failure axes just counted must be kept, not rolled back with the answer.
        raise DomainError("bad_credentials", "用户名或密码错误", "Wrong username or password")
    with transaction.atomic():
        return _device_token_store(user=user, device_id=device_id, device_name=device_name)


def _device_token_store(*, user: User, device_id: str, device_name: str) -> IssuedToken:
    device = Device.objects.select_for_update().filter(user=user, device_id=device_id).first()
    if device is not None and device.revoked_at is not None:
        raise DomainError("device_revoked", "此设备已被停用，请联系管理员", "This device has been revoked: ask an "
                          "administrator", wipe=True)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    expires_at = now + dt.timedelta(days=settings.QIAOMEN_TOKEN_DAYS)
    if device is None:
        device = Device.objects.create(
            user=user, device_id=device_id, name=device_name, token_digest=token_digest(token),
            token_prefix=token[:8], created_at=now, expires_at=expires_at, last_seen_at=now,
        )
    else:
        device.name = device_name or device.name
        device.token_digest, device.token_prefix = token_digest(token), token[:8]
        device.expires_at, device.last_seen_at = expires_at, now
        device.save(update_fields=["name", "token_digest", "token_prefix", "expires_at", "last_seen_at"])
    return IssuedToken(device=device, token=token)


@transaction.atomic
def device_revoke(*, device: Device, by: User | None, reason: str = "") -> Device:
    """Stop a device at its next contact; the app then wipes its local data. Audited."""
    if device.revoked_at is None:
        device.revoked_at, device.revoked_by = timezone.now(), by
        device.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(actor=by, action=AuditAction.DEVICE_REVOKE, obj=device, object_id=device.device_id,
                     object_type="sync.device", territory=user_territory(device.user),
                     changes={"user": device.user.username, "token_prefix": device.token_prefix}, reason=reason)
    return device


WIPE_KINDS = ("visits", "household_reports", "claims")


def device_wipe_confirm(*, token: str, discarded: dict) -> Device:
    """A revoked phone says it has wiped itself, and how many items it had not uploaded (discarded with the rest
    of its data, docs/privacy.md). Accepted only with the revoked device's own token; recorded in the audit trail."""
    device = Device.objects.select_related("user").filter(token_digest=token_digest(token or "")).first()
    if device is None:
        raise DeviceWipeError("token_invalid", "令牌无效", "Invalid token")
    if device.revoked_at is None:
        raise DomainError("not_revoked", "此设备未被停用", "This device is not revoked")
    counts = {}
    for kind in WIPE_KINDS:
        value = (discarded or {}).get(kind, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1_000_000:
            raise DomainError("invalid", f"discarded.{kind} 应为非负整数", f"discarded.{kind} must be a count",
                              field=f"discarded.{kind}")
        counts[kind] = value
    audit_record(actor=device.user, action=AuditAction.DEVICE_WIPED, obj=device, object_id=device.device_id,
                 object_type="sync.device", territory=user_territory(device.user),
                 changes={"discarded": counts, "revoked_at": device.revoked_at}, device_id=device.device_id)
    return device


class DeviceWipeError(DomainError):
    status_code = 401


# ---------------------------------------------------------------------------------------------------------------- pull


def _parse_cursor(device: Device, cursor: str) -> tuple[PullSnapshot | None, PullSnapshot | None, int | None]:
    """→ (base snapshot of a complete cursor, snapshot of a continuation, last cell sent); (None, None, None) when the
    cursor is empty or unknown here (the pull is then a reset)."""
    parts = (cursor or "").split(".")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        return None, None, None
    if len(numbers) not in (2, 3):
        return None, None, None
    snap = PullSnapshot.objects.filter(pk=numbers[1], device=device, seq=numbers[0]).first()
    if snap is None:
        return None, None, None
    if len(numbers) == 2:
        return (snap, None, None) if snap.complete else (None, None, None)
    return (None, snap, numbers[2]) if not snap.complete else (None, None, None)


def _repeatable_read() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def sync_pull(*, device: Device, cursor: str, limit: int) -> dict:
    """One page of changes for the device since its cursor, read in one consistent snapshot (see module docs)."""
    outermost = not connection.in_atomic_block  # inside a test's or a caller's transaction: its snapshot rules
    with transaction.atomic():
        if outermost:
            _repeatable_read()
        return _pull_page(device=device, cursor=cursor, limit=max(1, limit))


def _pull_page(*, device: Device, cursor: str, limit: int) -> dict:
    base, snap, after = _parse_cursor(device, cursor)
    changes: dict[str, list] = {"rounds": [], "outcome_codes": [], "cells": [], "households": [],
                                "household_states": []}
    deleted = {kind: [] for kind in selectors.SCOPE_KINDS}
    first_page = snap is None
    now_scope = selectors.sync_scope(user=device.user)
    if first_page:
        snap = PullSnapshot.objects.create(
            device=device, seq=changeseq.current(connection), since_seq=base.seq if base else None,
            reset=base is None, base=base, scope=now_scope,
        )
        since = base.seq if base else None
        before = base.scope if base else {}
        if base is not None:
            deleted = selectors.scope_removed(before=before, now=now_scope)
        new_rounds = [r for r in now_scope["rounds"] if r not in set(before.get("rounds", []))]
        common_rounds = [r for r in now_scope["rounds"] if r in set(before.get("rounds", []))]
        round_ids = new_rounds + _changed("campaigns_round", common_rounds, since)
        changes["rounds"] = selectors.round_records(ids=round_ids)
        new_codes = [o for o in now_scope["outcome_codes"] if o not in set(before.get("outcome_codes", []))]
        common_codes = [o for o in now_scope["outcome_codes"] if o in set(before.get("outcome_codes", []))]
        changes["outcome_codes"] = selectors.outcome_code_records(
            ids=new_codes + _changed("campaigns_outcomecode", common_codes, since))
    else:
        since = snap.since_seq
        before = snap.base.scope if snap.base_id else {}
    # Cells of the pull's scope (fixed on its first page) still in scope now, after the last one sent.
    cells = {int(c): rs for c, rs in snap.scope["cells"].items() if c in now_scope["cells"]}
    todo = sorted(c for c in cells if after is None or c > after)
    before_cells = before.get("cells", {})
    whole_new = [c for c in todo if since is None or before_cells.get(str(c)) != cells[c]]
    common = {c: cells[c] for c in todo if c not in set(whole_new)}
    changed = selectors.changed_since(since=since, cells=common, rounds=snap.scope["rounds"]) if common else None
    counts = selectors.household_counts(cell_ids=todo)
    page_whole, page_cells, page_states, used, last = [], [], {}, 0, None
    for c in todo:
        if used >= limit:
            break
        last = c
        if c in common and changed is not None and c not in changed["whole"]:
            visited = changed["visited"].get(c, {})
            n = (1 if c in changed["cells"] else 0) + sum(len(v) for v in visited.values())
            if c in changed["cells"]:
                page_cells.append(c)
            for round_id, ids in visited.items():
                page_states.setdefault(round_id, set()).update(ids)
            used += n
        else:
            page_whole.append(c)
            used += 1 + counts.get(c, 0)
    has_more = last is not None and last != (todo[-1] if todo else None)
    page_cells += page_whole
    if page_cells:
        changes["cells"] = selectors.cell_records(cells={c: cells[c] for c in sorted(page_cells)})
    if page_whole:
        changes["households"] = selectors.household_records(cells={c: cells[c] for c in page_whole})
    if page_states:
        changes["household_states"] = selectors.household_state_records(pairs=page_states)
    if has_more:
        next_cursor = f"{snap.seq}.{snap.pk}.{last}"
    else:
        snap.complete = True
        snap.save(update_fields=["complete"])
        next_cursor = f"{snap.seq}.{snap.pk}"
        _prune(device=device, keep_from=snap)
    return {
        "cursor": next_cursor, "has_more": has_more, "reset": first_page and snap.reset,
        "changes": changes, "deleted": deleted,
        "server_time": timezone.now().isoformat(),
    }


def _changed(table: str, ids: list[int], since: int | None) -> list[int]:
    if not ids:
        return []
    from django.apps import apps

    model = {"campaigns_round": apps.get_model("campaigns", "Round"),
             "campaigns_outcomecode": apps.get_model("campaigns", "OutcomeCode")}[table]
    return list(model.objects.filter(id__in=ids, change_seq__gt=since or 0).values_list("id", flat=True))


def _prune(*, device: Device, keep_from: PullSnapshot) -> None:
    """Keep the last few complete snapshots (a phone whose response was lost retries with its previous cursor)."""
    keep = settings.QIAOMEN_SYNC_SNAPSHOTS_KEPT
    old_complete = list(
        PullSnapshot.objects.filter(device=device, complete=True).order_by("-id").values_list("id", flat=True)[keep:]
    )
    stale = PullSnapshot.objects.filter(device=device, complete=False, id__lt=keep_from.pk)
    PullSnapshot.objects.filter(id__in=old_complete).delete()
    stale.delete()


# ---------------------------------------------------------------------------------------------------------------- push

REPORT_MESSAGES = {
    "accepted": ("已接收，待审核", "Received; pending review"),
    "duplicate": ("已接收过（重复提交）", "Already received (duplicate)"),
    "not_assigned": ("该住户不在您负责的网格内", "This household is not in a cell you hold"),
    "unknown_household": ("住户不存在", "Unknown household"),
    "claim_accepted": ("认领成功", "Cell claimed"),
    "claim_duplicate": ("您已负责该网格（重复提交）", "You already hold this cell (duplicate)"),
    "unknown_round": ("轮次不存在", "Unknown round"),
    "unknown_cell": ("网格不存在", "Unknown grid cell"),
}


def _msg(code: str, language: str) -> str:
    zh, en = REPORT_MESSAGES[code]
    return en if language.startswith("en") else zh


def _result(kind: str, id: str, status: str, code: str, message: str, **extra) -> dict:
    return {"kind": kind, "id": id, "status": status, "code": code, "message": message, **extra}


@transaction.atomic
def sync_push(*, device: Device, visits: list[dict], household_reports: list[dict], claims: list[dict],
              language: str = "zh-hans", now: dt.datetime | None = None) -> list[dict]:
    """Apply a validated batch in one transaction; one result per item, in the order visits, household reports,
    claims. Claims are applied first, so visits in a cell claimed offline are accepted. Replaying a batch changes
    nothing and answers `duplicate` for each item."""
    from server.visits.services import VisitInput, visits_record

    if claims:
        # A claim locks an assignment row and then writes syncable rows; two batches with several claims could take
        # those in opposite orders. Taking the syncable-writes lock first rules that out. Visit-only batches take it
        # (through the triggers) only at their final insert, so their checks run in parallel.
        changeseq.take_write_lock(connection)
    now = now or timezone.now()
    user = device.user
    claim_results = [_claim(user=user, item=c, language=language) for c in claims]
    results = []
    items = [VisitInput(**v) for v in visits]
    for r in visits_record(user=user, items=items, device_id=device.device_id, language=language, now=now):
        if r.status == "accepted":
            results.append(_result("visit", r.id, r.status, r.code, r.message, flags=list(r.flags)))
        else:
            results.append(_result("visit", r.id, r.status, r.code, r.message))
    results += _household_reports(device=device, items=household_reports, language=language, now=now)
    results += claim_results
    return results


def _claim(*, user: User, item: dict, language: str) -> dict:
    from server.campaigns.errors import PlanError
    from server.campaigns.models import CellAssignment, Round
    from server.campaigns.services import cell_claim
    from server.territory.models import GridCell

    key = str(item["id"])
    round = Round.objects.select_related("campaign").filter(pk=item["round"]).first()
    if round is None:
        return _result("claim", key, "rejected", "unknown_round", _msg("unknown_round", language))
    cell = GridCell.objects.filter(pk=item["cell"]).first()
    if cell is None:
        return _result("claim", key, "rejected", "unknown_cell", _msg("unknown_cell", language))
    from django.db.models import Q

    if CellAssignment.objects.filter(Q(worker=user) | Q(team__members=user), round=round, cell=cell).exists():
        return _result("claim", key, "duplicate", "duplicate", _msg("claim_duplicate", language))
    try:
        cell_claim(round=round, cell=cell, worker=user)
    except PlanError as exc:
        return _result("claim", key, "rejected", exc.code, exc.message_for(language), **exc.details)
    return _result("claim", key, "accepted", "accepted", _msg("claim_accepted", language))


def _household_reports(*, device: Device, items: list[dict], language: str, now: dt.datetime) -> list[dict]:
    from django.contrib.gis.geos import Point
    from django.db.models import Q

    from server.campaigns.models import CellAssignment, Round, RoundStatus
    from server.registry.models import Household
    from server.sync.models import HouseholdReport

    if not items:
        return []
    user = device.user
    known = set(HouseholdReport.objects.filter(id__in=[i["id"] for i in items]).values_list("id", flat=True))
    households = Household.objects.in_bulk([i["household"] for i in items if i.get("household")])
    round_ids = [i["round"] for i in items if i.get("round")]
    rounds = set(Round.objects.filter(id__in=round_ids).values_list("id", flat=True))
    held = set(CellAssignment.objects.filter(Q(worker=user) | Q(team__members=user), round__status=RoundStatus.OPEN)
               .values_list("cell_id", flat=True))
    out, to_store = [], []
    for item in items:
        key = str(item["id"])
        if item["id"] in known:
            out.append(_result("household_report", key, "duplicate", "duplicate", _msg("duplicate", language)))
            continue
        household = households.get(item.get("household")) if item.get("household") else None
        if item.get("household") and household is None:
            out.append(_result("household_report", key, "rejected", "unknown_household",
                               _msg("unknown_household", language)))
            continue
        cell_id = household.cell_id if household else item.get("cell")
        if cell_id not in held:
            out.append(_result("household_report", key, "rejected", "not_assigned", _msg("not_assigned", language)))
            continue
        known.add(item["id"])
        location = Point(item["lon"], item["lat"], srid=4326) if item.get("lat") is not None else None
        to_store.append(HouseholdReport(
            id=item["id"], kind=item["kind"], household=household, cell_id=cell_id,
            round_id=item.get("round") if item.get("round") in rounds else None,
            location=location, accuracy_m=item.get("accuracy_m"), address=item.get("address", ""),
            street=item.get("street", ""), building=item.get("building", ""), unit=item.get("unit", ""),
            floor=item.get("floor"), room=item.get("room", ""), note=item.get("note", ""), reported_by=user,
            device_id=device.device_id, captured_at=item["captured_at"], received_at=now,
        ))
        out.append(_result("household_report", key, "accepted", "accepted", _msg("accepted", language)))
    HouseholdReport.objects.bulk_create(to_store)
    return out
