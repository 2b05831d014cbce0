"""Errors a user can cause, with a machine-readable code and a message in Chinese and English."""

from __future__ import annotations


class DomainError(Exception):
    """Raised by services before anything is changed. The API turns it into a 400 with code and message."""

    status_code = 400

    def __init__(self, code: str, zh: str, en: str, **details):
        self.code = code
        self.zh = zh
        self.en = en
        self.details = details
        super().__init__(f"{zh} / {en}")

    @property
    def message(self) -> str:
        return f"{self.zh} / {self.en}"

    def message_for(self, language: str) -> str:
        return self.en if (language or "").startswith("en") else self.zh
