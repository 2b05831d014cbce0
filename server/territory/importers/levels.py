"""The levels a boundary file can hold, what each is stored as, and which level its parent is."""

from __future__ import annotations

import json
import re
from enum import Enum

from django.db import models

from server.territory.models import Area, AreaLevel, GridCell, PoliceStation


class ImportLevel(str, Enum):
    CITY = "city"
    DISTRICT = "district"
    TOWNSHIP = "township"
    COMMUNITY = "community"
    CELL = "cell"
    STATION = "station"

    @property
    def label(self) -> str:
        return LEVEL_LABELS[self]

    @property
    def model(self) -> type[models.Model]:
        return {ImportLevel.CELL: GridCell, ImportLevel.STATION: PoliceStation}.get(self, Area)

    @property
    def is_area(self) -> bool:
        return self.model is Area

    @property
    def parent_level(self) -> AreaLevel | None:
        return PARENT_LEVEL[self]

    @property
    def parent_field(self) -> str:
        """The model field that points at the parent area."""
        return {ImportLevel.CELL: "community", ImportLevel.STATION: "district"}.get(self, "parent")

    @property
    def parent_required(self) -> bool:
        # A police station may be imported before anyone decides its district.
        return self.parent_level is not None and self is not ImportLevel.STATION


LEVEL_LABELS = {
    ImportLevel.CITY: "市 city",
    ImportLevel.DISTRICT: "区/县 district",
    ImportLevel.TOWNSHIP: "乡镇/街道 township",
    ImportLevel.COMMUNITY: "社区/村 community",
    ImportLevel.CELL: "网格 grid cell",
    ImportLevel.STATION: "派出所 police station",
}
AREA_LEVEL_LABELS = dict(AreaLevel.choices)

PARENT_LEVEL: dict[ImportLevel, AreaLevel | None] = {
    ImportLevel.CITY: None,
    ImportLevel.DISTRICT: AreaLevel.CITY,
    ImportLevel.TOWNSHIP: AreaLevel.DISTRICT,
    ImportLevel.COMMUNITY: AreaLevel.TOWNSHIP,
    ImportLevel.CELL: AreaLevel.COMMUNITY,
    ImportLevel.STATION: AreaLevel.DISTRICT,
}

# Codes go into "/"-separated paths, so only these characters are allowed.
CODE_PATTERN = re.compile(r"^[0-9A-Za-z_-]+$")
# Code lengths in the national scheme: township = district + 3 digits, community = township + 3, cell = community + 3.
_SCHEME_LENGTHS = {ImportLevel.TOWNSHIP: 9, ImportLevel.COMMUNITY: 12, ImportLevel.CELL: 15}


def scheme_parent_code(level: ImportLevel, code: str) -> str | None:
    """The parent code the national numbering implies (341102001 → 341102), or None when it implies none."""
    if not code.isdigit():
        return None
    if level is ImportLevel.DISTRICT and len(code) == 6 and not code.endswith("00"):
        return code[:4] + "00"
    if _SCHEME_LENGTHS.get(level) == len(code):
        return code[:-3]
    return None


def attribute_text(value: object) -> str | None:
    """An attribute as clean text: numbers without ".0", blanks as None.

    A JSON object such as DataV's `"parent": {"adcode": 341100}` gives its adcode/code.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, int):
        return str(value)
    text = str(value).strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            return text
        if isinstance(obj, dict):
            return attribute_text(obj.get("adcode", obj.get("code")))
    return text or None
