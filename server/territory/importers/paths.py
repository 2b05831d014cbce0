"""Keeping materialised paths consistent when an area moves to another parent.

`path` ("341100/341102/341102001/") is what scoping filters on, so an area that changes parent must take every
area, grid cell and police station below it along; otherwise users would silently gain or lose rows.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr

from server.territory.models import Area, GridCell, PoliceStation


@transaction.atomic
def area_parent_change(*, area: Area, parent: Area | None) -> int:
    """Give `area` a new parent and rewrite the paths of everything below it. Returns the rows rewritten below.

    The area itself is saved (parent, path); descendants are rewritten in three set-based UPDATEs by replacing
    the old path prefix with the new one.
    """
    old_path = area.path
    area.parent = parent
    area.save(update_fields=["parent", "path", "updated_at"])
    return area_subtree_paths_move(old_path=old_path, new_path=area.path)


def area_subtree_paths_move(*, old_path: str, new_path: str) -> int:
    """Replace the prefix `old_path` by `new_path` in the paths strictly below it (areas, cells, stations)."""
    if old_path == new_path:
        return 0
    # The trailing "/" in a path keeps 341102/ from matching 3411021/.
    assert old_path.endswith("/") and new_path.endswith("/"), (old_path, new_path)
    rewritten = Concat(Value(new_path), Substr(F("path"), len(old_path) + 1))
    total = 0
    for model in (Area, GridCell, PoliceStation):
        below = model.objects.filter(path__startswith=old_path).exclude(path=old_path)
        total += below.update(path=rewritten)
    return total


def territory_paths_inconsistent() -> list[str]:
    """Codes of areas, cells and stations whose stored path is not their parent's path plus their code.

    A check for tests and operators; empty when the tree is consistent.
    """
    paths = dict(Area.objects.values_list("id", "path"))
    bad = []
    for area in Area.objects.values("code", "path", "parent_id"):
        parent_path = paths.get(area["parent_id"], "")
        if area["path"] != f"{parent_path}{area['code']}/":
            bad.append(area["code"])
    for model, parent_field in ((GridCell, "community_id"), (PoliceStation, "district_id")):
        for row in model.objects.values("code", "path", parent_field):
            if row["path"] != f"{paths.get(row[parent_field], '')}{row['code']}/":
                bad.append(row["code"])
    return bad

