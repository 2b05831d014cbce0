"""import_households: each kind of bad row is reported (row, column, reason in Chinese and English) and not written.

Without --strict the good rows of the file are written and the bad one is not; with --strict nothing is written.
"""

import csv

import pytest

from server.common import pii
from server.registry.importing import households_import
from server.registry.models import Household, Resident

pytestmark = pytest.mark.django_db

HEADER = ["登记编号", "社区代码", "街路巷", "楼栋", "单元", "楼层", "房号", "经度", "纬度", "状态", "人数",
          "姓名", "性别", "出生年份", "手机", "身份证号", "重点人群"]
GOOD_ID = "34110219800101123" + pii.id_number_check_char("34110219800101123")
BAD_CHECK_ID = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")


def row(register_id: str, **changes) -> list[str]:
    values = dict(zip(HEADER, [register_id, "341102001001", "琅琊路", "3", "1", "2", "201", "118.01", "32.01", "在住",
                               "1", "张伟", "男", "1980", "13812345678", "", "学生"], strict=True))
    values.update(changes)
    return [values[h] for h in HEADER]


# kind, changes to the bad row, column in the report, words of the Chinese and of the English reason
CASES = [
    ("register id missing", {"登记编号": ""}, "登记编号 register_id", "缺少登记编号", "register id missing"),
    ("community missing", {"社区代码": ""}, "社区代码 community_code", "缺少社区", "community missing"),
    ("building and street missing", {"街路巷": "", "楼栋": ""}, "楼栋 building", "缺少楼栋或街路巷",
     "building or street missing"),
    ("room missing", {"房号": ""}, "房号 room", "缺少房号", "room missing"),
    ("coordinate unparsable", {"经度": "118.0l"}, "经度 longitude", "坐标不是数字", "not a number"),
    ("coordinate missing", {"纬度": ""}, "纬度 latitude", "缺少坐标", "coordinate missing"),
    ("point outside the city", {"经度": "121.47", "纬度": "31.23"}, "经度 longitude", "不在本市范围内",
     "outside the city"),
    ("longitude and latitude swapped", {"经度": "32.01", "纬度": "118.01"}, "经度 longitude", "经纬度可能填反了",
     "look swapped"),
    ("unknown community code", {"社区代码": "341102009009"}, "社区代码 community_code", "未知的社区代码",
     "unknown community code"),
    ("code of a township, not a community", {"社区代码": "341102001"}, "社区代码 community_code", "不是社区",
     "not a community"),
    ("bad status", {"状态": "入住"}, "状态 status", "状态应为", "status must be"),
    ("bad floor", {"楼层": "三楼"}, "楼层 floor", "楼层应为整数", "whole number"),
    ("bad size", {"人数": "-2"}, "人数 size", "人数应为非负整数", "size must be"),
    ("ID number fails the checksum", {"身份证号": BAD_CHECK_ID}, "身份证号 id_number", "校验位错误",
     "GB 11643 check digit"),
    ("ID number of the wrong length", {"身份证号": GOOD_ID[:15]}, "身份证号 id_number", "18 位", "18 characters"),
    ("ID number mangled by Excel", {"身份证号": "3.41102E+17"}, "身份证号 id_number", "存成了数字", "as a number"),
    ("malformed phone", {"手机": "1381234567"}, "手机 phone", "手机号格式不正确", "malformed phone"),
    ("unknown key group", {"重点人群": "学生；赌博人员"}, "重点人群 key_groups", "未知的重点人群", "unknown key group"),
    ("bad sex", {"性别": "未说明"}, "性别 sex", "性别应为", "sex must be"),
    ("bad birth year", {"出生年份": "1800"}, "出生年份 birth_year", "出生年份应为", "birth year must be"),
    ("resident without a name", {"姓名": ""}, "姓名 name", "缺少姓名", "name is missing"),
]


def write(tmp_path, rows):
    path = tmp_path / "register.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        out.writerows(rows)
    return path


def state():
    return (sorted(Household.objects.values_list("register_id", "street", "room", "status", "cell_id")),
            sorted(Resident.objects.values_list("household__register_id", "name", "id_hash")))


def problems_of(result, row_number):
    with result.report_path.open(encoding="utf-8-sig", newline="") as f:
        return [r for r in csv.DictReader(f) if r["行号 row"] == str(row_number)]


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize(("kind", "changes", "column", "reason_zh", "reason_en"), CASES, ids=[c[0] for c in CASES])
def test_bad_row_is_reported_and_not_written(mini_city, tmp_path, strict, kind, changes, column, reason_zh,
                                             reason_en):
    before = state()
    rows = [row("G001"), row("X002", **changes), row("G003", 房号="202", 身份证号=GOOD_ID)]
    result = households_import(path=write(tmp_path, rows), strict=strict, progress=False,
                               report_path=tmp_path / "report.csv")

    found = problems_of(result, 3)  # the header is row 1: the bad row is the file's row 3
    assert [(p["列 column"], p["级别 level"][:2]) for p in found] == [(column, "错误")], found
    assert reason_zh in found[0]["原因 reason"] and reason_en in found[0]["reason"], found[0]
    assert not problems_of(result, 2) and not problems_of(result, 4)
    assert (result.rows_read, result.rows_rejected) == (3, 1)
    assert GOOD_ID not in result.report_path.read_text(encoding="utf-8-sig")  # the report masks ID numbers
    if strict:
        assert state() == before and not result.written and result.households_created == 0
    else:
        written = set(Household.objects.values_list("register_id", flat=True))
        assert {"G001", "G003"} <= written and "X002" not in written and "" not in written
        assert len(written) == len(before[0]) + 2
        assert Resident.objects.filter(household__register_id__in=["G001", "G003"]).count() == 2
        assert result.written and result.households_created == 2


def test_duplicate_register_id_with_conflicting_household_data(mini_city, tmp_path):
    rows = [row("D001"), row("D001", 姓名="李娜", 性别="女"), row("D001", 房号="999", 姓名="王强"), row("G004")]
    result = households_import(path=write(tmp_path, rows), progress=False, report_path=tmp_path / "report.csv")
    found = problems_of(result, 4)
    assert [p["列 column"] for p in found] == ["登记编号 register_id"]
    assert "与第 2 行不一致" in found[0]["原因 reason"] and "differs from row 2" in found[0]["reason"]
    assert (result.rows_rejected, result.households_created, result.residents_created) == (1, 2, 3)
    household = Household.objects.get(register_id="D001")  # the first row stands; the conflicting one is not taken
    assert household.room == "201"
    assert sorted(household.residents.values_list("name", flat=True)) == ["张伟", "李娜"]


def test_duplicate_register_id_with_conflicting_data_under_strict_writes_nothing(mini_city, tmp_path):
    before = state()
    rows = [row("D001"), row("D001", 房号="999", 姓名="王强")]
    result = households_import(path=write(tmp_path, rows), strict=True, progress=False,
                               report_path=tmp_path / "report.csv")
    assert [p["列 column"] for p in problems_of(result, 3)] == ["登记编号 register_id"]
    assert state() == before and not result.written


def test_same_id_number_twice_in_the_file(mini_city, tmp_path):
    rows = [row("P001", 身份证号=GOOD_ID), row("P002", 房号="202", 身份证号=GOOD_ID)]
    result = households_import(path=write(tmp_path, rows), progress=False, report_path=tmp_path / "report.csv")
    found = problems_of(result, 3)
    assert [p["列 column"] for p in found] == ["身份证号 id_number"] and "与第 2 行重复" in found[0]["原因 reason"]
    assert found[0]["值 value"].endswith(GOOD_ID[-4:]) and found[0]["值 value"].startswith("*")
    assert Household.objects.filter(register_id="P001").exists()
    assert not Household.objects.filter(register_id="P002").exists()


def test_a_row_with_several_problems_reports_each(mini_city, tmp_path):
    rows = [row("M001", 状态="?", 手机="12", 经度="abc")]
    result = households_import(path=write(tmp_path, rows), progress=False, report_path=tmp_path / "report.csv")
    assert {p["列 column"] for p in problems_of(result, 2)} == {"状态 status", "手机 phone", "经度 longitude"}
    assert result.rows_rejected == 1 and not Household.objects.filter(register_id="M001").exists()


def test_row_with_blank_household_columns_and_no_earlier_row_of_its_register_id(mini_city, tmp_path):
    rows = [["C001"] + [""] * 10 + ["张伟", "男", "1980", "", "", ""], row("G002")]
    result = households_import(path=write(tmp_path, rows), progress=False, report_path=tmp_path / "report.csv")
    found = problems_of(result, 2)
    assert [p["列 column"] for p in found] == ["登记编号 register_id"] and "住户信息为空" in found[0]["原因 reason"]
    assert result.households_created == 1
