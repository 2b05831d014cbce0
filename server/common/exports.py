"""Every export of data leaves a line in the audit trail: who, what, when, how many rows, with which parameters.

Call `export_record` from the service that hands the file out (report downloads, walk sheets, the audit export,
any XLSX/CSV export), after the file was made and before it is returned. The entry's territory is taken from
`params["area"]` or `params["cell"]` (a code, or an object with `code`) when present, so area administrators see
the exports of their own territory.
"""

from __future__ import annotations

from server.audit.models import AuditAction, AuditEntry
from server.audit.services import audit_record


def _territory(params: dict):
    from server.territory.models import Area, GridCell

    for key, model in (("cell", GridCell), ("area", Area)):
        value = params.get(key)
        if value is None or value == "":
            continue
        if hasattr(value, "path"):
            return value
        found = model.objects.filter(code=str(value)).only("code", "path").first()
        if found is not None:
            return found
    return None


def _plain(value):
    if hasattr(value, "_meta") and hasattr(value, "pk"):
        return getattr(value, "code", None) or value.pk
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def export_record(*, user, what: str, rows: int, params: dict) -> AuditEntry:
    """Record one export: `what` names it ("report:xlsx", "walk_sheet:pdf", "audit:csv", ...), `rows` is how many
    data rows left, `params` what was asked for (area, round, filters...; never personal data)."""
    params = dict(params or {})
    return audit_record(
        actor=user, action=AuditAction.EXPORT, object_type="export", object_id=what, object_repr=what,
        territory=_territory(params), changes={"params": {k: _plain(v) for k, v in params.items()}},
        rows=int(rows),
    )
