"""Importing the household register from CSV or XLSX files. See docs/import.md."""

from server.registry.importing.columns import ImportFileError
from server.registry.importing.households import households_import
from server.registry.importing.report import ImportResult
from server.registry.importing.validation import Problem

__all__ = ["ImportFileError", "ImportResult", "Problem", "households_import"]
