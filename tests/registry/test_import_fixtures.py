"""The demo registers in fixtures/registers/ import cleanly into the mini city, and are reproducible."""

import csv
import importlib.util
from pathlib import Path

import pytest

from server.registry.importing import households_import
from server.registry.models import Household

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "registers"


def make_registers():
    spec = importlib.util.spec_from_file_location("make_registers", FIXTURES / "make_registers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["households-utf8.csv", "households-gbk.csv", "households.xlsx"])
def test_demo_register_imports_without_a_bad_row(mini_city, tmp_path, name):
    result = households_import(path=FIXTURES / name, progress=False, report_path=tmp_path / "report.csv")
    assert result.rows_rejected == 0, [(p.row, p.column, p.reason_en) for p in result.errors]
    assert result.households_created >= 6 and result.residents_created > result.households_created / 2
    # The last household of each file lies in the city but in no grid cell: imported, listed.
    assert len(result.outside_cells) == 1
    assert Household.objects.get(register_id=result.outside_cells[0]).cell is None
    assert Household.objects.filter(cell__isnull=False, register_id__startswith="3411").count() == (
        result.households_created - 1)


def test_error_register_shows_one_problem_a_bad_row(mini_city, tmp_path):
    result = households_import(path=FIXTURES / "households-errors.csv", progress=False,
                               report_path=tmp_path / "report.csv")
    with result.report_path.open(encoding="utf-8-sig", newline="") as f:
        rows = [int(r["行号 row"]) for r in csv.DictReader(f) if r["级别 level"].startswith("错误")]
    assert sorted(rows) == list(range(3, 22))  # row 2 is the good one; every other row has one problem
    assert result.households_created == 1 and result.rows_rejected == 19


def test_registers_are_reproducible(tmp_path):
    for path in make_registers().registers_write(tmp_path):
        assert path.read_bytes() == (FIXTURES / path.name).read_bytes(), path.name
