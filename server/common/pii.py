"""Personal data rules in one place: phone encryption and masking, ID-number hashing and checks (GB 11643).

Keys come from settings.PII_KEY (QIAOMEN_PII_KEY in the environment). Nothing else in the code base
encrypts, hashes or masks personal data by itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
ID_RE = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    raw = hashlib.sha256(("phone:" + key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(raw))


@lru_cache(maxsize=4)
def _hash_key(key: str) -> bytes:
    return hashlib.sha256(("id-number:" + key).encode()).digest()


def normalize_phone(value: str) -> str:
    """Strip spaces, dashes and a +86 prefix; return '' for empty input."""
    v = re.sub(r"[\s\-()]", "", (value or "").strip())
    if v.startswith("+86"):
        v = v[3:]
    elif v.startswith("0086"):
        v = v[4:]
    return v


def phone_is_valid(value: str) -> bool:
    v = normalize_phone(value)
    return bool(PHONE_RE.match(v) or LANDLINE_RE.match(v))


def phone_mask(value: str) -> str:
    """138****1234 for mobiles; keep the area code and last four digits of a landline."""
    v = normalize_phone(value)
    if not v:
        return ""
    if PHONE_RE.match(v):
        return f"{v[:3]}****{v[-4:]}"
    return f"{v[:4]}****{v[-4:]}" if len(v) > 8 else "****" + v[-4:]


def name_mask(value: str) -> str:
    """张** for 张三丰: the first character (the surname, mostly) and a star for each other one."""
    v = (value or "").strip()
    return v[:1] + "*" * max(len(v) - 1, 1) if v else ""


def phone_encrypt(value: str) -> str:
    v = normalize_phone(value)
    return _fernet(settings.PII_KEY).encrypt(v.encode()).decode() if v else ""


def phone_decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(settings.PII_KEY).decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


def id_number_normalize(value: str) -> str:
    return (value or "").strip().upper().replace(" ", "")


def id_number_is_valid(value: str) -> bool:
    """Check an 18-character resident ID number against the GB 11643-1999 checksum."""
    v = id_number_normalize(value)
    if not ID_RE.match(v):
        return False
    total = sum(int(d) * w for d, w in zip(v[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == v[17]


def id_number_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_number_hash(value: str) -> str:
    """Keyed hash for matching a resident again without storing the number."""
    v = id_number_normalize(value)
    return hmac.new(_hash_key(settings.PII_KEY), v.encode(), hashlib.sha256).hexdigest() if v else ""


def id_number_last4(value: str) -> str:
    return id_number_normalize(value)[-4:]
