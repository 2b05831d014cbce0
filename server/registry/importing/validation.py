"""Row checks of a household register, lean enough for a city's 1.4 million rows.

Everything a row is checked against (communities, key groups, the city's box, field lengths) is loaded once into
dicts; a row costs no query. A row is taken whole or not at all: any problem rejects it, and every problem of the
row is reported.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from server.common import pii
from server.registry.importing.columns import COLUMNS, HOUSEHOLD_DATA_FIELDS, RESIDENT_COLUMNS, HeaderMap
from server.registry.models import Household, HouseholdStatus, KeyGroup, Resident
from server.registry.services import resident_set_identity
from server.territory.models import Area, AreaLevel

ERROR = "error"
NOTICE = "notice"

STATUS_WORDS = {
    **{w: HouseholdStatus.OCCUPIED.value for w in ("在住", "居住", "常住", "occupied", "正常")},
    **{w: HouseholdStatus.VACANT.value for w in ("空置", "空房", "空挂户", "vacant", "empty")},
    **{w: HouseholdStatus.DEMOLISHED.value for w in ("已拆除", "拆除", "已拆迁", "demolished")},
    **{c.value: c.value for c in HouseholdStatus},
    **{c.label.lower(): c.value for c in HouseholdStatus},
}
SEX_WORDS = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F", "1": "M", "2": "F"}
_KEY_GROUP_SPLIT = re.compile(r"[;；、,，|｜/]")
_FLOOR = re.compile(r"^(-?\d{1,3})\s*(?:层|楼|f)?$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})(?:年|[-/.]\d{1,2}(?:[-/.]\d{1,2})?)?$")
_BARE = re.compile(r"[0-9A-Za-z-]+").fullmatch


@dataclass(frozen=True)
class Problem:
    """One problem of one row, as the report shows it. `level` is error (row rejected) or notice (row imported)."""

    row: int
    register_id: str
    column: str
    value: str
    reason_zh: str
    reason_en: str
    level: str = ERROR


def value_masked(field: str, value: str) -> str:
    """What of a bad value the report may show: never a full ID number or phone (the report is a file on disk)."""
    if field == "id_number" and value:
        return "*" * max(len(value) - 4, 0) + value[-4:]
    if field == "phone" and value:
        return value[:3] + "****" + value[-4:] if len(value) >= 8 else "****"
    return value


@dataclass
class Lookups:
    """What rows are checked against, loaded once per import."""

    communities_by_code: dict[str, int]
    communities_by_name: dict[str, int | None]  # None: the name is not unique, use the code
    other_levels: dict[str, str]
    key_groups: dict[str, int | None]  # code, name or English name -> id; None: derived, ignored
    bbox: tuple[float, float, float, float]
    lengths: dict[str, int]


def lookups_load() -> Lookups:
    """Load communities, key groups, the city box and field lengths."""
    by_code: dict[str, int] = {}
    by_name: dict[str, int | None] = {}
    other: dict[str, str] = {}
    for pk, code, name, level in Area.objects.values_list("id", "code", "name", "level"):
        if level != AreaLevel.COMMUNITY:
            other[code] = level
            continue
        by_code[code] = pk
        by_name[name] = None if name in by_name else pk
    groups: dict[str, int | None] = {}
    for pk, code, name, name_en, derived in KeyGroup.objects.values_list("id", "code", "name", "name_en", "derived"):
        for token in (code, name, name_en):
            if token:
                groups[token.strip().lower()] = None if derived else pk
    lengths = {f.name: f.max_length for m in (Household, Resident) for f in m._meta.fields if f.max_length}
    return Lookups(by_code, by_name, other, groups, tuple(settings.QIAOMEN_CITY_BBOX), lengths)


def address_compose(*, street: str, building: str, unit: str, room: str) -> str:
    """琅琊路 + 3栋 + 2单元 + 301室, adding the suffix only to bare numbers."""
    bare = _BARE
    return (street + (building + "栋" if building and bare(building) else building)
            + (unit + "单元" if unit and bare(unit) else unit) + (room + "室" if room and bare(room) else room))


class RowChecker:
    """Checks rows one by one and remembers what the file said so far (register ids, ID numbers).

    `check` returns the household tuple (first accepted row of a register id only), the resident tuple and the
    problems of the row; both tuples are None when the row is rejected.
    """

    def __init__(self, *, header: HeaderMap, lookups: Lookups):
        self.header = header
        self.lk = lookups
        width = max(header.index.values()) + 1
        self.width = width + 1
        at = {f: header.index.get(f, width) for f in COLUMNS}  # absent columns read an always-blank cell
        self.at = at
        self.data_at = tuple(at[f] for f in HOUSEHOLD_DATA_FIELDS if f in header.index)
        self.has_residents = header.has_residents
        self.resident_at = tuple(at[c.field] for c in RESIDENT_COLUMNS)
        self.seen: dict[str, tuple[int, int]] = {}  # register id -> (first accepted row, hash of its household)
        self.id_rows: dict[str, int] = {}  # ID-number hash -> row
        self.scratch = Resident()
        self.max_street, self.max_building, self.max_unit, self.max_room = (
            lookups.lengths[f] for f in ("street", "building", "unit", "room"))
        self.this_year = timezone.localdate().year

    # -- households ------------------------------------------------------------------------------------------

    def check(self, number: int, row: list[str]):
        lack = self.width - len(row)
        if lack > 0:
            row = row + [""] * lack
        at = self.at
        problems: list[Problem] = []
        rid = row[at["register_id"]].strip()
        if not rid:
            problems.append(Problem(number, "", COLUMNS["register_id"].label, "", "缺少登记编号",
                                    "register id missing"))
        elif len(rid) > self.lk.lengths["register_id"]:
            problems.append(self._too_long(number, rid, "register_id", rid))
        seen = self.seen.get(rid)
        household = None
        if rid and (seen is not None or not (row[at["community_code"]].strip() or row[at["community"]].strip())) \
                and not any(row[i].strip() for i in self.data_at):
            # A continuation row (Excel's merged cells): another resident of the household an earlier row gave.
            if seen is None:
                problems.append(Problem(
                    number, rid, COLUMNS["register_id"].label, rid, "住户信息为空，且前面没有该登记编号的有效行",
                    "household columns are empty and no earlier valid row has this register id",
                ))
        else:
            household = self._household(number, rid, row, problems)
        resident = self._resident(number, rid, row, problems) if self.has_residents else None
        if problems:
            return None, None, problems
        if household is not None:
            digest = hash(household[2:])
            if seen is None:
                self.seen[rid] = (number, digest)
                return household, resident, ()
            if digest != seen[1]:
                # The first row stands: it may already be written when this one is read (large files stream).
                return None, None, [Problem(
                    number, rid, COLUMNS["register_id"].label, rid,
                    f"登记编号重复，住户信息与第 {seen[0]} 行不一致；本行未导入，以第 {seen[0]} 行为准",
                    f"duplicate register id: household data differs from row {seen[0]}; this row was not imported, "
                    f"row {seen[0]} was (rows of one household must agree on address, coordinates, status, size)",
                )]
        return None, resident, ()

    def _too_long(self, number: int, rid: str, field: str, value: str) -> Problem:
        limit = self.lk.lengths[field]
        return Problem(number, rid, COLUMNS[field].label, value, f"太长（最多 {limit} 个字符）",
                       f"too long (at most {limit} characters)")

    def _household(self, number: int, rid: str, row: list[str], problems: list[Problem]):
        at, lk = self.at, self.lk
        community_id = None
        code = row[at["community_code"]].strip()
        if code:
            community_id = lk.communities_by_code.get(code)
            if community_id is None and code in lk.other_levels:
                problems.append(Problem(number, rid, COLUMNS["community_code"].label, code,
                                        f"该代码是{AreaLevel(lk.other_levels[code]).label}，不是社区/村",
                                        f"this code is a {lk.other_levels[code]}, not a community"))
            elif community_id is None:
                problems.append(Problem(number, rid, COLUMNS["community_code"].label, code,
                                        "未知的社区代码（先导入辖区）",
                                        "unknown community code (import the territory first)"))
        else:
            name = row[at["community"]].strip()
            if not name:
                problems.append(Problem(number, rid, COLUMNS["community_code"].label, "", "缺少社区（代码或名称）",
                                        "community missing (code or name)"))
            elif name not in lk.communities_by_name:
                problems.append(Problem(number, rid, COLUMNS["community"].label, name, "未知的社区名称",
                                        "unknown community name"))
            elif lk.communities_by_name[name] is None:
                problems.append(Problem(number, rid, COLUMNS["community"].label, name, "社区名称不唯一，请填写社区代码",
                                        "community name is not unique: give the code"))
            else:
                community_id = lk.communities_by_name[name]
        street, building, unit, room = (row[at[f]].strip() for f in ("street", "building", "unit", "room"))
        if len(street) > self.max_street or len(building) > self.max_building or len(unit) > self.max_unit \
                or len(room) > self.max_room:
            for field, value in (("street", street), ("building", building), ("unit", unit), ("room", room)):
                if len(value) > lk.lengths[field]:
                    problems.append(self._too_long(number, rid, field, value))
        if not building and not street:
            problems.append(Problem(number, rid, COLUMNS["building"].label, "", "缺少楼栋或街路巷",
                                    "building or street missing"))
        if not room:
            problems.append(Problem(number, rid, COLUMNS["room"].label, "", "缺少房号", "room missing"))
        floor = None
        text = row[at["floor"]].strip()
        if text:
            m = text.isdigit() or _FLOOR.match(text)
            if m:
                floor = int(text) if m is True else int(m.group(1))
            else:
                problems.append(Problem(number, rid, COLUMNS["floor"].label, text, "楼层应为整数",
                                        "floor must be a whole number"))
        try:
            lon, lat = float(row[at["lon"]]), float(row[at["lat"]])
        except ValueError:
            lon = self._coordinate(number, rid, row, "lon", problems)
            lat = self._coordinate(number, rid, row, "lat", problems)
        if lon is not None and lat is not None:
            x0, y0, x1, y1 = lk.bbox
            if not (x0 <= lon <= x1 and y0 <= lat <= y1):  # NaN fails this too
                swapped = x0 <= lat <= x1 and y0 <= lon <= y1
                problems.append(Problem(
                    number, rid, COLUMNS["lon"].label, f"{row[at['lon']].strip()},{row[at['lat']].strip()}",
                    f"坐标不在本市范围内（经度 {x0}–{x1}，纬度 {y0}–{y1}）" + ("，经纬度可能填反了" if swapped else ""),
                    f"point outside the city (longitude {x0}–{x1}, latitude {y0}–{y1})"
                    + ("; longitude and latitude look swapped" if swapped else ""),
                ))
        text = row[at["status"]].strip()
        status = STATUS_WORDS.get(text.lower()) if text else HouseholdStatus.OCCUPIED.value
        if status is None:
            problems.append(Problem(number, rid, COLUMNS["status"].label, text, "状态应为 在住、空置 或 已拆除",
                                    "status must be occupied, vacant or demolished (在住/空置/已拆除)"))
        size = None
        text = row[at["size"]].strip()
        if text:
            if text.isdigit() and int(text) <= 32767:
                size = int(text)
            else:
                problems.append(Problem(number, rid, COLUMNS["size"].label, text, "人数应为非负整数",
                                        "size must be a whole number, 0 or more"))
        address = row[at["address"]].strip()
        if len(address) > lk.lengths["address"]:
            problems.append(self._too_long(number, rid, "address", address))
        if problems:
            return None
        if not address:
            address = address_compose(street=street, building=building, unit=unit, room=room)[: lk.lengths["address"]]
        return (number, rid, community_id, street, building, unit, floor, room, address, lon, lat, status, size)

    def _coordinate(self, number: int, rid: str, row: list[str], field: str, problems: list[Problem]) -> float | None:
        text = row[self.at[field]].strip()
        if not text:
            problems.append(Problem(number, rid, COLUMNS[field].label, "", "缺少坐标", "coordinate missing"))
            return None
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            problems.append(Problem(number, rid, COLUMNS[field].label, text,
                                    "坐标不是数字（应为十进制度，如 118.3165）",
                                    "coordinate is not a number (decimal degrees expected, e.g. 118.3165)"))
            return None
        return value

    # -- residents -------------------------------------------------------------------------------------------

    def _resident(self, number: int, rid: str, row: list[str], problems: list[Problem]):
        name, sex_text, year_text, phone, id_number, groups_text = (row[i].strip() for i in self.resident_at)
        if not (name or sex_text or year_text or phone or id_number or groups_text):
            return None
        before = len(problems)
        lk = self.lk
        if not name:
            problems.append(Problem(number, rid, COLUMNS["name"].label, "", "有居民信息但缺少姓名",
                                    "resident columns filled but the name is missing"))
        elif len(name) > lk.lengths["name"]:
            problems.append(self._too_long(number, rid, "name", name))
        sex = ""
        if sex_text:
            sex = SEX_WORDS.get(sex_text.lower(), None)
            if sex is None:
                problems.append(Problem(number, rid, COLUMNS["sex"].label, sex_text, "性别应为 男 或 女",
                                        "sex must be 男 or 女 (M/F)"))
        birth_year = None
        if year_text:
            m = _YEAR.match(year_text)
            birth_year = int(m.group(1)) if m else None
            if birth_year is None or not 1900 <= birth_year <= self.this_year:
                problems.append(Problem(number, rid, COLUMNS["birth_year"].label, year_text,
                                        f"出生年份应为 1900–{self.this_year} 的四位数",
                                        f"birth year must be four digits, 1900–{self.this_year}"))
        if phone and not pii.phone_is_valid(phone):
            problems.append(Problem(number, rid, COLUMNS["phone"].label, value_masked("phone", phone),
                                    "手机号格式不正确（11 位手机号或带区号的座机）",
                                    "malformed phone (11-digit mobile or landline with area code)"))
        if id_number:
            id_number = pii.id_number_normalize(id_number)
            if not pii.id_number_is_valid(id_number):
                problems.append(self._id_problem(number, rid, id_number))
        key_group_ids = []
        if groups_text:
            for token in _KEY_GROUP_SPLIT.split(groups_text):
                token = token.strip()
                if not token:
                    continue
                key = token.lower()
                if key not in lk.key_groups:
                    problems.append(Problem(number, rid, COLUMNS["key_groups"].label, token, "未知的重点人群",
                                            "unknown key group"))
                elif lk.key_groups[key] is not None and lk.key_groups[key] not in key_group_ids:
                    key_group_ids.append(lk.key_groups[key])  # derived groups (elderly) come from the birth year
        if len(problems) > before:
            return None
        scratch = resident_set_identity(resident=self.scratch, phone=phone, id_number=id_number)
        if id_number:
            first = self.id_rows.setdefault(scratch.id_hash, number)
            if first != number:
                problems.append(Problem(number, rid, COLUMNS["id_number"].label, value_masked("id_number", id_number),
                                        f"身份证号与第 {first} 行重复", f"same ID number as row {first}"))
                return None
            # The ID number says what a blank sex or birth-year cell did not.
            birth_year = birth_year or int(id_number[6:10])
            sex = sex or ("M" if int(id_number[16]) % 2 else "F")
        return (number, rid, name, sex, birth_year, scratch.phone_cipher, scratch.phone_masked, scratch.id_hash,
                scratch.id_last4, key_group_ids or None)

    def _id_problem(self, number: int, rid: str, id_number: str) -> Problem:
        shown = value_masked("id_number", id_number)
        label = COLUMNS["id_number"].label
        if "E+" in id_number.upper() or "." in id_number:
            return Problem(number, rid, label, shown, "身份证号被 Excel 存成了数字，请把该列设为文本后重新导出",
                           "Excel stored the ID number as a number: format the column as text and export again")
        if not pii.ID_RE.match(id_number):
            return Problem(number, rid, label, shown, "身份证号应为 18 位（最后一位可为 X）",
                           "ID number must have 18 characters (the last may be X)")
        return Problem(number, rid, label, shown, "身份证号校验位错误（GB 11643）",
                       "ID number fails the GB 11643 check digit")
