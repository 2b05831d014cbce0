"""Reading the audit trail: who may, which entries they reach (their territory), and the filters admins use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from server.accounts import scoping
from server.accounts.models import Role
from server.audit.models import AuditEntry

# Who reads the trail: administrators. Station chiefs and field roles do not (they are what it watches).
AUDIT_ROLES = {Role.CITY_ADMIN, Role.DISTRICT_ADMIN}


def can_view_audit(user) -> bool:
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return bool(user.is_superuser or user.role in AUDIT_ROLES)


def audit_entries_visible(user, qs: QuerySet | None = None) -> QuerySet:
    """Entries about the caller's territory. Entries with no territory (an account without areas, a system job)
    are for superusers and city administrators."""
    qs = AuditEntry.objects.all() if qs is None else qs
    if not can_view_audit(user):
        return qs.none()
    scope = scoping.user_scope(user)
    if scope.everything:
        return qs
    where = scope.under("territory_path")
    if user.role == Role.CITY_ADMIN:
        where |= Q(territory_path="")
    return qs.filter(where)


@dataclass
class AuditFilters:
    action: str = ""
    actor: str = ""  # username
    object_type: str = ""
    object_id: str = ""
    territory: str = ""  # area or cell code: the entries under it
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive


def audit_entry_list(*, user, filters: AuditFilters | None = None) -> QuerySet:
    f = filters or AuditFilters()
    qs = audit_entries_visible(user)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.actor:
        qs = qs.filter(actor_username=f.actor)
    if f.object_type:
        qs = qs.filter(object_type=f.object_type)
    if f.object_id:
        qs = qs.filter(object_id=f.object_id)
    if f.territory:
        qs = qs.filter(Q(territory_code=f.territory) | Q(territory_path__contains=f"/{f.territory}/")
                       | Q(territory_path__startswith=f"{f.territory}/"))
    tz = timezone.get_current_timezone()
    if f.since:
        qs = qs.filter(at__gte=dt.datetime.combine(f.since, dt.time.min, tzinfo=tz))
    if f.until:
        qs = qs.filter(at__lt=dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs.order_by("-at", "-id")
