"""Errors a planner can cause."""

from server.common.errors import DomainError


class PlanError(DomainError):
    """Raised by campaign services; nothing has been changed when it is raised (services are atomic)."""
