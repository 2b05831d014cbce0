"""Writing the audit trail: `audit_record` for one act, `audit_record_many` for a batch (auto-assign, corrections).

Callers are the services that do the act (campaigns, visits, accounts, sync, registry, reports, exports), inside the
act's own transaction: if the act rolls back, so does its entry.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from server.audit.context import current_origin
from server.audit.models import AuditEntry


@dataclass
class AuditEvent:
    """One entry of a batch for audit_record_many."""

    action: str
    object_type: str = ""
    object_id: str = ""
    object_repr: str = ""
    territory: object = None  # an Area or GridCell (anything with `code` and `path`), or None
    changes: dict = field(default_factory=dict)
    reason: str = ""
    rows: int | None = None


def _jsonable(value) -> dict:
    return json.loads(json.dumps(value or {}, cls=DjangoJSONEncoder, ensure_ascii=False, default=str))


def _entry(*, actor, event: AuditEvent, at: dt.datetime, ip: str | None, device_id: str) -> AuditEntry:
    real = actor is not None and getattr(actor, "pk", None) is not None
    territory = event.territory
    return AuditEntry(
        at=at, actor_id=actor.pk if real else None, actor_username=actor.get_username() if real else "",
        actor_role=(getattr(actor, "role", "") or "") if real else "", action=event.action,
        object_type=event.object_type, object_id=str(event.object_id or "")[:64],
        object_repr=str(event.object_repr or "")[:200],
        territory_code=getattr(territory, "code", "") or "", territory_path=getattr(territory, "path", "") or "",
        changes=_jsonable(event.changes), reason=(event.reason or "")[:300], rows=event.rows, ip=ip,
        device_id=device_id[:64],
    )


def audit_record(
    *, actor, action: str, obj=None, object_type: str = "", object_id: str | int = "", object_repr: str = "",
    territory=None, changes: dict | None = None, reason: str = "", rows: int | None = None,
    ip: str | None = None, device_id: str = "",
) -> AuditEntry:
    """Append one entry. `obj` (a model instance) fills object type, id and text unless they are given; IP address
    and device come from the request being served unless given. `actor` None means the system (a scheduled job)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)
    here_ip, here_device = current_origin()
    event = AuditEvent(action=action, object_type=object_type, object_id=str(object_id), object_repr=object_repr,
                       territory=territory, changes=changes or {}, reason=reason, rows=rows)
    entry = _entry(actor=actor, event=event, at=timezone.now(), ip=ip or here_ip, device_id=device_id or here_device)
    entry.save()
    return entry


def audit_record_many(*, actor, events: Iterable[AuditEvent]) -> int:
    """Append a batch of entries at one time stamp (one insert per 1000)."""
    ip, device_id = current_origin()
    now = timezone.now()
    entries = [_entry(actor=actor, event=e, at=now, ip=ip, device_id=device_id) for e in events]
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return len(entries)
