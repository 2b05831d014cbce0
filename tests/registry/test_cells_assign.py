"""Households land in the grid cell containing their point, through the spatial index on both backends."""

import pytest
from django.contrib.gis.geos import Point

from server.registry.models import Household
from server.registry.services import household_cells_assign
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


def test_assign_places_points_and_leaves_outsiders_unassigned(mini_city):
    cell = mini_city.cells[5]
    c = cell.geom.centroid
    inside = HouseholdFactory(community=cell.community, cell=None, location=Point(c.x, c.y, srid=4326))
    far = Point(119.2, 33.2, srid=4326)
    outside = HouseholdFactory(community=cell.community, cell=mini_city.cells[0], location=far)
    household_cells_assign(household_ids=[inside.id, outside.id])
    assert Household.objects.get(pk=inside.pk).cell_id == cell.id
    # A household whose point left every cell loses its old cell rather than keeping a wrong one.
    assert Household.objects.get(pk=outside.pk).cell_id is None


def test_assign_all_matches_fixture_cells(mini_city):
    Household.objects.update(cell=None)
    household_cells_assign()
    for h in mini_city.households:
        assert Household.objects.get(pk=h.pk).cell_id == h.cell_id
