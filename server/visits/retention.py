"""Retention of visit GPS (PIPL: keep personal information no longer than the purpose needs).

A visit's precise fix says where a worker stood at a minute of a day. It is needed while the round runs (plausibility
flags, supervisors checking a doubtful visit); after QIAOMEN_GPS_RETENTION_DAYS (default 180) it is
- coarsened (QIAOMEN_GPS_RETENTION_MODE=coarsen, the default): snapped to a grid of QIAOMEN_GPS_COARSEN_DEG degrees
  (0.001° ≈ 110 m north–south, ≈ 95 m east–west at Chuzhou's latitude), or
- purged (…=purge): location, accuracy, fix time and provider removed.

Counted by the server's receive time, which a phone's clock cannot move. Coverage does not change: it is computed
from outcomes and the plausibility flags, which were set at receipt and stay. Runs nightly (Celery beat
`visits-gps-retention`) and as `manage.py gps_retention`; each run that changed something is one audit entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.db.models.functions import SnapToGrid
from django.db import transaction
from django.utils import timezone

from server.common.errors import DomainError
from server.visits.models import Visit

MODES = ("coarsen", "purge")


@dataclass
class RetentionResult:
    mode: str
    days: int
    cutoff: dt.datetime | None
    visits: int

    def as_dict(self) -> dict:
        return {"mode": self.mode, "days": self.days, "cutoff": self.cutoff.isoformat() if self.cutoff else None,
                "visits": self.visits}


def _due(cutoff: dt.datetime):
    return Visit.objects.filter(received_at__lt=cutoff, gps_coarsened_at__isnull=True, location__isnull=False)


def visits_gps_retention(*, now: dt.datetime | None = None, days: int | None = None, mode: str | None = None,
                         batch_size: int = 5000, dry_run: bool = False) -> RetentionResult:
    """Coarsen or purge the GPS of visits received more than `days` ago; `days` 0 turns retention off.

    Works in batches of `batch_size`, each its own short transaction (sync pushes wait for each batch, not for all).
    Run twice, the second run changes nothing."""
    days = settings.QIAOMEN_GPS_RETENTION_DAYS if days is None else days
    mode = mode or settings.QIAOMEN_GPS_RETENTION_MODE
    if mode not in MODES:
        raise DomainError("bad_mode", f"保留方式应为 {' 或 '.join(MODES)}", f"The mode must be one of {MODES}",
                          field="mode")
    if days < 0:
        raise DomainError("bad_days", "保留天数不能为负", "Days may not be negative", field="days")
    if days == 0:
        return RetentionResult(mode=mode, days=0, cutoff=None, visits=0)
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=days)
    if dry_run:
        return RetentionResult(mode=mode, days=days, cutoff=cutoff, visits=_due(cutoff).count())
    if mode == "coarsen":
        change = {"location": SnapToGrid("location", settings.QIAOMEN_GPS_COARSEN_DEG)}
    else:
        change = {"location": None, "accuracy_m": None, "fix_at": None, "provider": ""}
    total = 0
    while True:
        with transaction.atomic():
            ids = list(_due(cutoff).order_by("received_at").values_list("id", flat=True)[:batch_size])
            if not ids:
                break
            total += Visit.objects.filter(id__in=ids).update(gps_coarsened_at=now, **change)
    if total:
        from server.audit.models import AuditAction
        from server.audit.services import audit_record

        audit_record(actor=None, action=AuditAction.GPS_RETENTION, object_type="visits.visit",
                     object_repr=f"{total} 次走访 visits",
                     changes={"mode": mode, "days": days, "cutoff": cutoff, "visits": total,
                              "grid_deg": settings.QIAOMEN_GPS_COARSEN_DEG if mode == "coarsen" else None})
    return RetentionResult(mode=mode, days=days, cutoff=cutoff, visits=total)
