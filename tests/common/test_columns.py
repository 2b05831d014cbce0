"""Rows as numpy columns in and out of the database (server/common/columns.py), on SpatiaLite and PostGIS: what is
written reads back the same (NULLs, times to the microsecond, dates), packed ids fall back to plain columns when
they do not fit, and a diff writes exactly the rows that differ."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from django.db import connection

from server.common.columns import (
    DATE,
    INT,
    NULL,
    TIME,
    Col,
    Column,
    Query,
    changes_write,
    nullable,
    queries_read,
    rows_diff,
    rows_insert,
)
from server.common.groups import Groups, Lookup, match
from server.coverage.models import CellDayCoverage

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def us(moment: dt.datetime) -> int:
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@pytest.fixture
def rounds(mini_city, campaign):
    from server.campaigns import services

    return [services.round_create(campaign=campaign, starts_on=dt.date(2026, 11, start),
                                  ends_on=dt.date(2026, 11, end)) for start, end in ((1, 9), (10, 30))]


def days_rows(campaign, rounds, cells) -> list[Column]:
    n = 4
    return [Column("campaign_id", "bigint", np.full(n, campaign.pk)),
            Column("round_id", "bigint", np.array([rounds[0].pk, rounds[0].pk, NULL, rounds[1].pk])),
            Column("cell_id", "bigint", np.array([c.pk for c in cells[:4]])),
            Column("day", "date", np.array([20_000, 20_001, 20_002, 20_003])),
            Column("reached_new", "integer", np.array([1, 2, 3, 2_000_000_000]))]


def test_rows_written_read_back_the_same(campaign, rounds, mini_city):
    rows_insert("coverage_celldaycoverage", days_rows(campaign, rounds, mini_city.cells))
    got = list(CellDayCoverage.objects.order_by("cell_id").values_list("round_id", "day", "reached_new"))
    assert got == [(rounds[0].pk, dt.date(2024, 10, 4), 1), (rounds[0].pk, dt.date(2024, 10, 5), 2),
                   (None, dt.date(2024, 10, 6), 3), (rounds[1].pk, dt.date(2024, 10, 7), 2_000_000_000)]
    cell, round_id, day, n = queries_read([Query(
        [Col("cell_id"), Col(nullable("round_id", INT)), Col("day", DATE), Col("reached_new", bits=31)],
        "FROM coverage_celldaycoverage ORDER BY cell_id")])[0]
    assert round_id.tolist() == [rounds[0].pk, rounds[0].pk, NULL, rounds[1].pk]
    assert day.tolist() == [20_000, 20_001, 20_002, 20_003] and n.tolist()[-1] == 2_000_000_000


def test_times_read_to_the_microsecond_and_null_as_null(rounds):
    from server.campaigns.models import Round

    moment = dt.datetime(2026, 11, 21, 1, 2, 3, 456789, tzinfo=UTC)
    Round.objects.filter(pk=rounds[0].pk).update(opened_at=moment)
    ids, opened = queries_read([Query([Col("id"), Col(nullable("opened_at", TIME), TIME)],
                                      "FROM campaigns_round ORDER BY id")])[0]
    assert dict(zip(ids.tolist(), opened.tolist(), strict=True)) == {rounds[0].pk: us(moment), rounds[1].pk: NULL}


def test_packed_ids_that_do_not_fit_are_read_again_plain(mini_city):
    """Two bits hold ids up to 3: the households' ids are larger, so the query is read unpacked (on PostgreSQL;
    SQLite never packs) and the values are whole."""
    expected = sorted(h.pk for h in mini_city.households)
    ids, cells = queries_read([Query([Col("id", bits=2, bound="registry_household"),
                                      Col("COALESCE(cell_id, 0)", bits=2)], "FROM registry_household")])[0]
    assert sorted(ids.tolist()) == expected
    assert max(expected) > 3


def test_a_diff_writes_exactly_the_rows_that_differ(campaign, rounds, mini_city):
    table = "coverage_celldaycoverage"
    rows_insert(table, days_rows(campaign, rounds, mini_city.cells))
    stored_query = Query([Col("id"), Col("campaign_id"), Col(nullable("round_id", INT)), Col("cell_id"),
                          Col("day", DATE), Col("reached_new")], f"FROM {table}")
    before = dict(CellDayCoverage.objects.values_list("cell_id", "id"))
    computed = days_rows(campaign, rounds, mini_city.cells)
    # the first row unchanged, the second changed, the third gone, the fourth moved to another day, one new row
    keep = np.array([0, 1, 3])
    computed = [Column(c.name, c.db_type, c.values[keep]) for c in computed]
    computed[4].values[1] = 9
    computed[3].values[2] = 20_010
    computed = [Column(c.name, c.db_type, np.append(c.values, v)) for c, v in
                zip(computed, [campaign.pk, rounds[1].pk, mini_city.cells[5].pk, 20_005, 4], strict=True)]
    diff = rows_diff(table, computed=computed, key=["campaign_id", "round_id", "cell_id", "day"],
                     compared=["reached_new"], stored=queries_read([stored_query])[0])
    assert (len(diff.deleted), len(diff.updated[0].values), len(diff.inserted[0].values)) == (2, 1, 2)
    assert changes_write([diff]) == 5
    after = {(r, c, d): n for r, c, d, n in CellDayCoverage.objects.values_list("round_id", "cell_id", "day",
                                                                               "reached_new")}
    cells = mini_city.cells
    day = dt.date(1970, 1, 1) + dt.timedelta(days=20_000)
    assert after == {(rounds[0].pk, cells[0].pk, day): 1, (rounds[0].pk, cells[1].pk, day + dt.timedelta(1)): 9,
                     (rounds[1].pk, cells[3].pk, day + dt.timedelta(10)): 2_000_000_000,
                     (rounds[1].pk, cells[5].pk, day + dt.timedelta(5)): 4}
    assert dict(CellDayCoverage.objects.values_list("cell_id", "id"))[cells[0].pk] == before[cells[0].pk]  # kept
    again = rows_diff(table, computed=computed, key=["campaign_id", "round_id", "cell_id", "day"],
                      compared=["reached_new"], stored=queries_read([stored_query])[0])
    assert changes_write([again]) == 0


def test_group_by_and_lookups_agree_with_plain_python():
    rng = np.random.default_rng(7)
    a = rng.integers(0, 5, 1000)
    b = np.where(rng.random(1000) < 0.1, NULL, rng.integers(-3, 1 << 40, 1000))  # NULLs and a wide range
    v = rng.integers(0, 100, 1000)
    groups = Groups([a, b])
    expected: dict = {}
    for x, y, z in zip(a.tolist(), b.tolist(), v.tolist(), strict=True):
        expected.setdefault((x, y), []).append(z)
    assert list(zip(groups.keys[0].tolist(), groups.keys[1].tolist(), strict=True)) == sorted(expected)
    assert groups.sum(v).tolist() == [sum(expected[k]) for k in sorted(expected)]
    assert groups.max(v).tolist() == [max(expected[k]) for k in sorted(expected)]
    ids = rng.permutation(5000)[:700] + 10
    lookup = Lookup(ids)
    probe = np.array([ids[3], ids[699], 3, 10_000_000, -5])
    assert lookup.find(probe).tolist() == [3, 699, -1, -1, -1]
    assert match([probe], [ids]).tolist() == [3, 699, -1, -1, -1]


def test_the_reader_pool_needs_an_outermost_transaction():
    """Inside a test's transaction the pool's connections could not see the test's rows: none is opened."""
    from django.db import transaction

    from server.common.columns import ReaderPool

    with transaction.atomic():
        assert ReaderPool.open(2) is None
    assert connection.in_atomic_block  # the test's own transaction
