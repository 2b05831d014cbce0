"""The change sequence is stamped by the database on every insert and update, whoever writes."""

import pytest
from django.db import connection

from server.campaigns.models import CellAssignment, OutcomeCode, Round
from server.registry.models import Household
from server.sync import changeseq
from server.territory.models import GridCell
from server.visits.models import Visit
from tests.sync.conftest import push, visit

pytestmark = pytest.mark.django_db


def seq(model, pk):
    return model.objects.filter(pk=pk).values_list("change_seq", flat=True).get()


def test_every_syncable_table_is_stamped_on_insert(mini_city, round, phone):
    push(phone, [visit(mini_city.households[0], round)])
    for model in (GridCell, Household, Round, OutcomeCode, CellAssignment, Visit):
        assert not model.objects.filter(change_seq__isnull=True).exists(), model


def test_updates_by_save_queryset_and_raw_sql_all_move_the_number_forward(mini_city, round):
    h = mini_city.households[0]
    start = seq(Household, h.pk)
    h.room = "202"
    h.save(update_fields=["room"])
    after_save = seq(Household, h.pk)
    Household.objects.filter(pk=h.pk).update(room="203")
    after_update = seq(Household, h.pk)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE registry_household SET room = '204' WHERE id = %s", [h.pk])
    after_raw = seq(Household, h.pk)
    assert start < after_save < after_update < after_raw
    assert changeseq.current(connection) >= after_raw


def test_a_stale_in_memory_number_cannot_move_a_row_back(mini_city, round):
    cell = GridCell.objects.get(pk=mini_city.cells[0].pk)
    GridCell.objects.filter(pk=cell.pk).update(name="新名")
    newer = seq(GridCell, cell.pk)
    cell.save()  # writes the stale change_seq it loaded
    assert seq(GridCell, cell.pk) > newer
