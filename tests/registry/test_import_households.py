"""import_households: encodings, headers, re-import, dry run, cells, personal data and the command's summary."""

import csv
import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from server.common import pii
from server.registry.importing import ImportFileError, households_import
from server.registry.importing import households as importing_households
from server.registry.models import Household, Resident

pytestmark = pytest.mark.django_db

HEADER = ["登记编号", "社区代码", "街路巷", "楼栋", "单元", "楼层", "房号", "经度", "纬度", "状态", "人数"]
RESIDENT_HEADER = ["姓名", "性别", "出生年份", "手机", "身份证号", "重点人群"]
# Mini city (tests/factories.py): community 341102001001 has cells 341102001001001 (118.00–118.02E, 32.00–32.02N)
# and …002 (118.02–118.04E); community 341102002001 has cells at 32.25–32.27N.
T1 = ["T001", "341102001001", "琅琊路", "3", "1", "2", "201", "118.01", "32.01", "在住", "3"]
T2 = ["T002", "341102002001", "丰乐大道", "5", "2", "4", "402", "118.03", "32.26", "空置", "0"]
OUTSIDE = ["T003", "341102001001", "清流路", "8", "1", "1", "101", "118.30", "32.40", "在住", "1"]


def id_number(first17: str = "34110219800101123") -> str:
    return first17 + pii.id_number_check_char(first17)


def write_csv(path, rows, header=HEADER, encoding="utf-8"):
    with path.open("w", encoding=encoding, newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows)
    return path


def run(path, **kwargs):
    kwargs.setdefault("progress", False)
    kwargs.setdefault("report_path", path.with_suffix(".report.csv"))
    return households_import(path=path, **kwargs)


def report_rows(result):
    with result.report_path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def snapshot():
    return (
        sorted(Household.objects.values_list("register_id", "street", "room", "status", "size", "cell_id")),
        sorted(Resident.objects.values_list("household__register_id", "name", "phone_masked")),
    )


def test_utf8_csv_with_chinese_headers_puts_households_in_their_cells(mini_city, tmp_path):
    result = run(write_csv(tmp_path / "r.csv", [T1, T2]))
    assert (result.rows_read, result.rows_rejected, result.households_created) == (2, 0, 2)
    t1, t2 = Household.objects.get(register_id="T001"), Household.objects.get(register_id="T002")
    assert t1.cell.code == "341102001001001" and t1.community.code == "341102001001"
    assert t2.cell.code == "341102002001002" and t2.status == "vacant" and t2.size == 0
    assert (t1.street, t1.building, t1.unit, t1.floor, t1.room) == ("琅琊路", "3", "1", 2, "201")
    assert t1.address == "琅琊路3栋1单元201室"
    assert (t1.location.x, t1.location.y) == (118.01, 32.01)


def test_gbk_csv_is_detected_and_read(mini_city, tmp_path):
    path = write_csv(tmp_path / "gbk.csv", [[*T1, "王小明", "男", "1950", "", "", "学生"]],
                     header=HEADER + RESIDENT_HEADER, encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    result = run(path)
    assert "gb18030" in result.file_kind and result.households_created == 1
    household = Household.objects.get(register_id="T001")
    assert household.street == "琅琊路" and household.residents.get().name == "王小明"


def test_utf8_csv_with_bom_is_read(mini_city, tmp_path):
    path = write_csv(tmp_path / "bom.csv", [T1], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    result = run(path)
    assert result.households_created == 1 and result.rows_rejected == 0
    assert Household.objects.get(register_id="T001").street == "琅琊路"


def test_xlsx_with_chinese_headers_and_numeric_cells(mini_city, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER + RESIDENT_HEADER)
    # Excel keeps numbers as numbers: floor, coordinates, phone and year come back as int/float, not text.
    sheet.append(["T001", "341102001001", "琅琊路", 3, 1, 2, 201, 118.01, 32.01, "在住", 2, "赵敏", "女", 1985,
                  13912345678, id_number(), "财会人员"])
    sheet.append(["T001", None, None, None, None, None, None, None, None, None, None, "钱学", "男", 2012])
    sheet.append([None] * 5)
    path = tmp_path / "r.xlsx"
    book.save(path)
    result = run(path)
    assert (result.rows_read, result.rows_rejected, result.households_created, result.residents_created) == (2, 0, 1, 2)
    household = Household.objects.get(register_id="T001")
    assert (household.floor, household.room, household.size) == (2, "201", 2)
    zhao = household.residents.get(name="赵敏")
    assert zhao.phone_masked == "139****5678" and zhao.birth_year == 1985
    assert list(zhao.key_groups.values_list("code", flat=True)) == ["finance_staff"]


def test_english_headers(mini_city, tmp_path):
    header = ["register_id", "community_code", "street", "building", "unit", "floor", "room", "longitude",
              "latitude", "status", "size", "name", "sex", "birth_year", "phone", "id_number", "key_groups"]
    rows = [["E1", "341102001001", "Langya Rd", "7", "", "", "3", "118.015", "32.005", "demolished", "", "Li Lei",
             "male", "1990", "+86 138 1234 5678", "", "student|company_head"]]
    result = run(write_csv(tmp_path / "en.csv", rows, header=header))
    assert result.rows_rejected == 0
    household = Household.objects.get(register_id="E1")
    assert household.status == "demolished" and household.size == 1 and household.cell.code == "341102001001001"
    resident = household.residents.get()
    assert (resident.sex, resident.phone_masked) == ("M", "138****5678")
    assert set(resident.key_groups.values_list("code", flat=True)) == {"student", "company_head"}


def test_community_by_name_within_the_territory(mini_city, tmp_path):
    header = ["户号", "社区", "楼栋", "房号", "经度", "纬度"]
    result = run(write_csv(tmp_path / "n.csv", [["N1", mini_city.communities[0].name, "1", "101", "118.01", "32.01"]],
                           header=header))
    assert result.rows_rejected == 0
    assert Household.objects.get(register_id="N1").community == mini_city.communities[0]


def test_rows_of_one_register_id_are_one_household_with_several_residents(mini_city, tmp_path):
    rows = [[*T1[:10], "", "甲", "男", "1950", "", "", "学生、企业负责人"],
            [*T1[:10], "", "乙", "女", "1952", "", "", ""],
            ["T001"] + [""] * 10 + ["丙", "女", "2015", "", "", ""]]  # merged cells in Excel: household part blank
    result = run(write_csv(tmp_path / "r.csv", rows, header=HEADER + RESIDENT_HEADER))
    assert (result.households_created, result.residents_created, result.rows_rejected) == (1, 3, 0)
    household = Household.objects.get(register_id="T001")
    assert sorted(household.residents.values_list("name", flat=True)) == ["丙", "乙", "甲"]
    assert household.size == 3  # blank size: the residents listed
    assert set(household.residents.get(name="甲").key_groups.values_list("code", flat=True)) == {
        "student", "company_head"}


def test_key_groups_by_code_or_chinese_name_any_separator_and_derived_ones_ignored(mini_city, tmp_path):
    groups = "学生;finance_staff，虚假投资理财风险|居家女性（20-50岁）/老年人（60岁以上）"
    rows = [[*T1, "甲", "女", "1950", "", "", groups]]
    run(write_csv(tmp_path / "g.csv", rows, header=HEADER + RESIDENT_HEADER))
    resident = Resident.objects.get(household__register_id="T001")
    assert set(resident.key_groups.values_list("code", flat=True)) == {
        "student", "finance_staff", "investment_risk", "woman_at_home"}  # elderly comes from the birth year


def test_reimport_updates_by_register_id_and_never_duplicates(mini_city, tmp_path):
    before = Household.objects.count()
    first = run(write_csv(tmp_path / "r1.csv", [T1, T2]))
    created_at = Household.objects.get(register_id="T001").created_at
    changed = [*T1[:2], "新街", *T1[3:9], "空置", T1[10]]
    again = run(write_csv(tmp_path / "r2.csv", [changed, T2]))
    assert (first.households_created, again.households_created) == (2, 0)
    assert (again.households_updated, again.households_unchanged) == (1, 1)
    assert Household.objects.count() == before + 2
    t1 = Household.objects.get(register_id="T001")
    assert (t1.street, t1.status, t1.address) == ("新街", "vacant", "新街3栋1单元201室")
    assert t1.created_at == created_at and t1.updated_at > created_at
    third = run(write_csv(tmp_path / "r3.csv", [changed, T2]))
    assert (third.households_created, third.households_updated, third.households_unchanged) == (0, 0, 2)


def test_reimport_replaces_the_residents_of_households_in_the_file(mini_city, tmp_path):
    header = HEADER + RESIDENT_HEADER
    rows = [[*T1, "甲", "男", "1950", "", "", "学生"], [*T1, "乙", "女", "1951", "", "", ""]]
    run(write_csv(tmp_path / "a.csv", rows, header=header))
    other = mini_city.households[0]
    kept = list(other.residents.values_list("id", flat=True))
    result = run(write_csv(tmp_path / "b.csv", [[*T1, "丙", "女", "1990", "", "", ""]], header=header))
    assert (result.residents_removed, result.residents_created) == (2, 1)
    assert list(Resident.objects.filter(household__register_id="T001").values_list("name", flat=True)) == ["丙"]
    assert list(other.residents.values_list("id", flat=True)) == kept  # households not in the file: untouched
    assert not Resident.key_groups.through.objects.filter(resident__name__in=["甲", "乙"]).exists()


def test_file_without_resident_or_status_columns_keeps_them(mini_city, tmp_path):
    household = mini_city.households[0]
    household.status = "vacant"
    household.save(update_fields=["status"])
    residents = household.residents.count()
    point = household.location
    header = ["登记编号", "社区代码", "楼栋", "房号", "经度", "纬度"]
    row = [household.register_id, household.community.code, "9", "909", str(point.x), str(point.y)]
    result = run(write_csv(tmp_path / "h.csv", [row], header=header))
    assert result.households_updated == 1
    household.refresh_from_db()
    assert (household.building, household.room, household.status) == ("9", "909", "vacant")
    assert household.residents.count() == residents


def test_dry_run_reports_but_writes_nothing(mini_city, tmp_path):
    existing = mini_city.households[0]
    before = snapshot()
    row = [existing.register_id, existing.community.code, "改名路", "1", "1", "1", "101", "118.01", "32.01", "在住",
           "1"]
    result = run(write_csv(tmp_path / "d.csv", [T1, OUTSIDE, row]), dry_run=True)
    assert (result.households_created, result.households_updated, result.households_unchanged) == (2, 1, 0)
    assert result.outside_cells == ["T003"] and not result.written
    assert snapshot() == before
    assert "试运行，未写入任何数据 dry run: nothing was written" in result.summary_lines()


def test_points_outside_every_cell_are_imported_without_a_cell_and_listed(mini_city, tmp_path):
    result = run(write_csv(tmp_path / "o.csv", [T1, OUTSIDE]))
    assert result.households_created == 2 and result.outside_cells == ["T003"]
    assert Household.objects.get(register_id="T003").cell is None
    notice = [r for r in report_rows(result) if r["登记编号 register_id"] == "T003"]
    assert len(notice) == 1 and notice[0]["行号 row"] == "3"
    assert "不在任何网格内" in notice[0]["原因 reason"] and "outside every grid cell" in notice[0]["reason"]
    assert notice[0]["级别 level"].startswith("提示 notice")


def test_phones_encrypted_and_masked_id_numbers_hashed_and_never_stored_in_clear(mini_city, tmp_path):
    number, phone = id_number("34110219561108451"), "13955556666"
    rows = [[*T1, "孙", "", "", phone, number.lower(), ""]]
    run(write_csv(tmp_path / "p.csv", rows, header=HEADER + RESIDENT_HEADER))
    resident = Resident.objects.get(household__register_id="T001")
    assert resident.phone_masked == "139****6666" and pii.phone_decrypt(resident.phone_cipher) == phone
    assert resident.id_hash == pii.id_number_hash(number) and resident.id_last4 == number[-4:]
    assert (resident.birth_year, resident.sex) == (1956, "M")  # blank cells filled from the ID number
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM registry_resident WHERE id = %s", [resident.id])
        stored = " ".join(str(v) for v in cur.fetchone())
    for clear in (number, number[:17], phone, phone[3:]):
        assert clear not in stored


def test_small_batches_and_the_threaded_writer_give_the_same_result(mini_city, tmp_path, monkeypatch):
    monkeypatch.setattr(importing_households, "BATCH", 2)
    monkeypatch.setattr(importing_households, "THREADED_MIN_BYTES", 0)
    rows = [[f"B{i:03d}", "341102001001", "琅琊路", "1", "1", "1", str(100 + i), f"{118.001 + i * 0.001:.3f}",
             "32.01", "在住", "2"] for i in range(7)]
    rows.append(OUTSIDE)
    result = run(write_csv(tmp_path / "b.csv", rows))
    assert (result.households_created, result.outside_cells) == (8, ["T003"])
    cells = dict(Household.objects.filter(register_id__startswith="B").values_list("register_id", "cell__code"))
    assert set(cells.values()) == {"341102001001001"}
    again = run(write_csv(tmp_path / "b.csv", rows[:3] + [[*rows[3][:2], "新街", *rows[3][3:]]]))
    assert (again.households_created, again.households_updated, again.households_unchanged) == (0, 1, 3)


def test_missing_required_columns_is_a_file_error_naming_them(mini_city, tmp_path):
    with pytest.raises(ImportFileError) as exc:
        run(write_csv(tmp_path / "m.csv", [["X1", "341102001001", "1", "101"]],
                      header=["登记编号", "社区代码", "楼栋", "房号"]))
    assert "缺少必需的列" in str(exc.value) and "经度" in str(exc.value) and "lat" in str(exc.value)


def test_unsupported_file_type_is_refused(tmp_path):
    path = tmp_path / "r.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ImportFileError, match="xlsx"):
        households_import(path=path, progress=False)


def test_command_prints_the_summary(mini_city, tmp_path):
    bad = [*T2[:9], "入住", "1"]
    path = write_csv(tmp_path / "c.csv", [T1, OUTSIDE, bad])
    out = io.StringIO()
    call_command("import_households", str(path), "--report", str(tmp_path / "rep.csv"), stdout=out)
    text = out.getvalue()
    for line in ("读取行数 rows read: 3", "拒绝行数 rows rejected: 1", "新建住户 households created: 2",
                 "更新住户 households updated: 0", "不在任何网格内的住户 households outside every grid cell: 1 (T003)",
                 f"报告 report: {tmp_path / 'rep.csv'}"):
        assert line in text


def test_command_strict_fails_and_writes_nothing(mini_city, tmp_path):
    before = snapshot()
    path = write_csv(tmp_path / "s.csv", [T1, [*T2[:9], "入住", "1"]])
    out = io.StringIO()
    with pytest.raises(CommandError, match="nothing written"):
        call_command("import_households", str(path), "--strict", "--report", str(tmp_path / "rep.csv"), stdout=out)
    assert snapshot() == before
    assert "严格模式：有错误行，未写入任何数据" in out.getvalue()


def test_command_strict_imports_a_clean_file(mini_city, tmp_path):
    out = io.StringIO()
    call_command("import_households", str(write_csv(tmp_path / "s.csv", [T1, T2])), "--strict", stdout=out)
    assert Household.objects.filter(register_id__in=["T001", "T002"]).count() == 2
    assert "新建住户 households created: 2" in out.getvalue() and "报告" not in out.getvalue()


def test_command_dry_run_and_default_report_under_var(mini_city, tmp_path, settings):
    settings.VAR_DIR = tmp_path / "var"
    before = snapshot()
    out = io.StringIO()
    call_command("import_households", str(write_csv(tmp_path / "reg.csv", [T1, OUTSIDE])), "--dry-run", stdout=out)
    assert snapshot() == before
    assert "将新建住户 households created: 2" in out.getvalue()
    reports = list((tmp_path / "var" / "import-reports").glob("reg-*-errors.csv"))
    assert len(reports) == 1 and f"报告 report: {reports[0]}" in out.getvalue()


def test_first_import_into_an_empty_register_then_again(mini_city, tmp_path, monkeypatch):
    Household.objects.all().delete()
    monkeypatch.setattr(importing_households, "BATCH", 1)
    path = write_csv(tmp_path / "e.csv", [T1, T2, OUTSIDE])
    first = run(path)
    assert (first.households_created, first.households_updated, first.outside_cells) == (3, 0, ["T003"])
    again = run(write_csv(tmp_path / "e2.csv", [[*T1[:9], "空置", T1[10]], T2, OUTSIDE]))
    assert (again.households_created, again.households_updated, again.households_unchanged) == (0, 1, 2)
    assert Household.objects.count() == 3 and Household.objects.get(register_id="T001").status == "vacant"
