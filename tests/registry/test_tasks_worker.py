"""The Celery path end to end: a real Redis broker and a real worker process against the test database."""

import pytest
from django.contrib.gis.geos import Point

from server.registry import tasks
from server.registry.models import Household
from tests.factories import HouseholdFactory, build_mini_city

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_worker_assigns_cells_to_new_households(celery_worker_mode):
    mc = build_mini_city()
    target = mc.cells[3]
    centre = target.geom.centroid
    stray = HouseholdFactory(community=target.community, cell=None, location=Point(centre.x, centre.y, srid=4326))
    outside = HouseholdFactory(community=target.community, cell=None, location=Point(118.9, 32.9, srid=4326))

    result = tasks.household_cells_assign.delay([stray.id, outside.id])
    result.get(timeout=60)

    assert Household.objects.get(pk=stray.pk).cell_id == target.id
    assert Household.objects.get(pk=outside.pk).cell_id is None
