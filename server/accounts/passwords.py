"""Password policy beyond Django's validators (length, common, numeric, similar to the username; settings.py):
at least two kinds of characters, as China's MLPS 2.0 (等保2.0) asks of passwords (口令复杂度)."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class CharacterKindsValidator:
    """At least `kinds` of: letters, digits, other characters (punctuation, spaces, Chinese...)."""

    def __init__(self, kinds: int = 2):
        self.kinds = kinds

    def validate(self, password: str, user=None) -> None:
        found = (any(c.isascii() and c.isalpha() for c in password) + any(c.isdigit() for c in password)
                 + any(not (c.isascii() and c.isalnum()) for c in password))
        if found < self.kinds:
            raise ValidationError(
                "密码须至少包含字母、数字、符号中的两种 / A password needs at least two of: letters, digits, symbols",
                code="password_too_simple")

    def get_help_text(self) -> str:
        return "密码须至少包含字母、数字、符号中的两种 / At least two of: letters, digits, symbols"
