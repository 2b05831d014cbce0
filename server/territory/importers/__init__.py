"""Importing boundaries (areas, grid cells, police-station jurisdictions) from GIS files. See docs/import-areas.md."""

from server.territory.importers.levels import ImportLevel
from server.territory.importers.paths import area_parent_change, territory_paths_inconsistent
from server.territory.importers.report import Action, BoundaryImportReport, FeatureOutcome, Issue, report_lines
from server.territory.importers.service import BoundaryImportError, boundaries_import, import_level_parse

__all__ = [
    "Action",
    "BoundaryImportError",
    "BoundaryImportReport",
    "FeatureOutcome",
    "ImportLevel",
    "Issue",
    "area_parent_change",
    "boundaries_import",
    "import_level_parse",
    "report_lines",
    "territory_paths_inconsistent",
]
