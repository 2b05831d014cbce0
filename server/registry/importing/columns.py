"""Register columns and the header names (Chinese or English) that map to them."""

from __future__ import annotations

import re
from dataclasses import dataclass


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, unknown format, required columns missing)."""


@dataclass(frozen=True)
class Column:
    field: str
    label: str  # how the column is named in messages and in the report: "中文 english"
    aliases: tuple[str, ...]


HOUSEHOLD_COLUMNS = (
    Column("register_id", "登记编号 register_id",
           ("登记编号", "户编号", "户号", "住户编号", "register_id", "household_id")),
    Column("community_code", "社区代码 community_code",
           ("社区代码", "社区编码", "社区村代码", "村居代码", "community_code")),
    Column("community", "社区 community", ("社区", "社区名称", "社区村", "村居", "community", "community_name")),
    Column("street", "街路巷 street", ("街路巷", "街路巷名", "街巷", "道路", "street", "road")),
    Column("building", "楼栋 building", ("楼栋", "楼栋号", "楼号", "栋", "building")),
    Column("unit", "单元 unit", ("单元", "单元号", "unit")),
    Column("floor", "楼层 floor", ("楼层", "层", "floor")),
    Column("room", "房号 room", ("房号", "房间号", "室", "门牌号", "room")),
    Column("address", "地址 address", ("地址", "详细地址", "住址", "address")),
    Column("lon", "经度 longitude", ("经度", "lon", "lng", "long", "longitude", "x")),
    Column("lat", "纬度 latitude", ("纬度", "lat", "latitude", "y")),
    Column("status", "状态 status", ("状态", "住户状态", "居住状态", "status")),
    Column("size", "人数 size", ("人数", "户人数", "人口数", "家庭人数", "size", "household_size")),
)
RESIDENT_COLUMNS = (
    Column("name", "姓名 name", ("姓名", "居民姓名", "name", "resident_name")),
    Column("sex", "性别 sex", ("性别", "sex", "gender")),
    Column("birth_year", "出生年份 birth_year", ("出生年份", "出生年", "birth_year", "year_of_birth")),
    Column("phone", "手机 phone", ("手机", "手机号", "手机号码", "联系电话", "电话", "phone", "mobile", "telephone")),
    Column("id_number", "身份证号 id_number",
           ("身份证号", "身份证号码", "身份证", "公民身份号码", "id_number", "id_no", "id_card")),
    Column("key_groups", "重点人群 key_groups", ("重点人群", "人群类别", "key_groups", "key_group", "groups")),
)
COLUMNS = {c.field: c for c in HOUSEHOLD_COLUMNS + RESIDENT_COLUMNS}
RESIDENT_FIELDS = frozenset(c.field for c in RESIDENT_COLUMNS)
# Household fields a row may leave blank when an earlier row of the same register id gave them (Excel merged cells).
HOUSEHOLD_DATA_FIELDS = tuple(c.field for c in HOUSEHOLD_COLUMNS if c.field != "register_id")

_NOISE = re.compile(r"[\s_\-*/、.:：]+")
_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")


def _key(text: str) -> str:
    return _NOISE.sub("", text.strip().lstrip("\ufeff").lower())


_ALIASES = {_key(alias): c.field for c in COLUMNS.values() for alias in (*c.aliases, c.field)}


def header_field(text: str) -> str | None:
    """The field a header names, or None. "经度(WGS84)", "Register ID" and "*登记编号" are understood."""
    key = _key(str(text or ""))
    if key in _ALIASES:
        return _ALIASES[key]
    return _ALIASES.get(_key(_BRACKETED.sub("", str(text or ""))))


@dataclass(frozen=True)
class HeaderMap:
    index: dict[str, int]  # field -> column position
    ignored: tuple[str, ...]  # headers that name no field

    def has(self, field: str) -> bool:
        return field in self.index

    @property
    def has_residents(self) -> bool:
        return "name" in self.index


def header_map(headers: list[str]) -> HeaderMap:
    """Map a header row to fields; raise ImportFileError naming what is missing or repeated."""
    index: dict[str, int] = {}
    ignored: list[str] = []
    for pos, text in enumerate(headers):
        field = header_field(text)
        if field is None:
            if str(text or "").strip():
                ignored.append(str(text).strip())
            continue
        if field in index:
            raise ImportFileError(
                f"列“{headers[index[field]]}”和“{text}”都表示{COLUMNS[field].label}，请删去一列。"
                f" Columns '{headers[index[field]]}' and '{text}' both mean {field}; remove one."
            )
        index[field] = pos
    missing = []
    for need in (("register_id",), ("community_code", "community"), ("lon",), ("lat",), ("room",),
                 ("building", "street")):
        if not any(f in index for f in need):
            missing.append(" / ".join(f"{COLUMNS[f].aliases[0]} ({f})" for f in need))
    resident_given = sorted(f for f in RESIDENT_FIELDS if f in index)
    if resident_given and "name" not in index:
        missing.append("姓名 (name)，因为文件有居民列 because the file has resident columns")
    if missing:
        found = "、".join(str(h).strip() for h in headers if str(h or "").strip()) or "（空 empty）"
        raise ImportFileError(
            "缺少必需的列 missing required columns: " + "; ".join(missing)
            + f"。文件中的列 columns found: {found}。中文或英文列名均可，见 docs/import.md "
            "Chinese or English headers are accepted, see docs/import.md."
        )
    return HeaderMap(index=index, ignored=tuple(ignored))
