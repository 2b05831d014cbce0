"""One feature on its way into the database: the verdict plus what applying it needs."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from django.db import models

from server.territory.importers.geometry import Extent
from server.territory.importers.report import Action, FeatureOutcome
from server.territory.models import Area


@dataclass
class PlannedFeature:
    outcome: FeatureOutcome
    geom: MultiPolygon | Polygon | None = None  # WGS-84, the type the model stores
    parent: Area | None = None
    existing: models.Model | None = None  # the row with the same code, if any
    metric: GEOSGeometry | None = None  # cells only: geom in the metric projection
    extent: Extent | None = None  # of geom, WGS-84

    @property
    def usable(self) -> bool:
        return self.outcome.action != Action.REJECTED
