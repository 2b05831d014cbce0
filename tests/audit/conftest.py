"""Fixtures shared with the sync tests (a worker holding two cells of an open round, device sign-in)."""

from tests.sync.conftest import round, worker  # noqa: F401 - fixtures
