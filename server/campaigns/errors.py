"""Errors a planner can cause: a machine-readable code and a message in Chinese and English."""

from __future__ import annotations


class PlanError(Exception):
    """Raised by campaign services; nothing has been changed when it is raised (services are atomic)."""

    def __init__(self, code: str, zh: str, en: str, **details):
        self.code = code
        self.zh = zh
        self.en = en
        self.details = details
        super().__init__(f"{zh} / {en}")

    @property
    def message(self) -> str:
        return f"{self.zh} / {self.en}"
