"""Password policy (settings.AUTH_PASSWORD_VALIDATORS), every message Chinese first with English.

Django's own validators, with our messages: Django 5.2's Chinese catalogue lags its English message ids, so its
length message would come out in English. Plus one rule of ours: at least two kinds of characters, as China's
MLPS 2.0 (等保2.0) asks of passwords (口令复杂度).
"""

from __future__ import annotations

from django.contrib.auth import password_validation as django_validators
from django.core.exceptions import ValidationError


class MinimumLengthValidator(django_validators.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return f"密码太短，至少需要 {self.min_length} 个字符 / A password needs at least {self.min_length} characters"

    def get_help_text(self) -> str:
        return f"至少 {self.min_length} 个字符 / At least {self.min_length} characters"


class UserAttributeSimilarityValidator(django_validators.UserAttributeSimilarityValidator):
    def get_error_message(self) -> str:
        return "密码与%(verbose_name)s过于相似 / The password is too similar to the %(verbose_name)s"

    def get_help_text(self) -> str:
        return "不能与用户名、姓名等个人信息相似 / Not similar to your username, name or other details"


class CommonPasswordValidator(django_validators.CommonPasswordValidator):
    def get_error_message(self) -> str:
        return "密码过于常见，容易被猜中 / This password is too common"

    def get_help_text(self) -> str:
        return "不能是常见密码 / Not a commonly used password"


class NumericPasswordValidator(django_validators.NumericPasswordValidator):
    def get_error_message(self) -> str:
        return "密码不能全是数字 / A password cannot be all digits"

    def get_help_text(self) -> str:
        return "不能全是数字 / Not all digits"


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
        return "至少包含字母、数字、符号中的两种 / At least two of: letters, digits, symbols"
