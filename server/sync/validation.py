"""Checking a push batch: a fast path for the visits, DRF's serializers for everything else and for every error.

A batch of 500 visits through DRF's nested serializers costs ~90 ms of CPU (18 fields × 500 items of
`run_validation`), more than storing it. Nearly every batch a phone sends is clean, so `visits_fast` checks the
visits with plain Python and returns exactly what `VisitInputSerializer` would return for them. It is strictly
conservative: any value it is not sure about (a number sent as a string, a naive time, surrounding spaces, a
missing lat with a lon, …) makes it give up, and the whole batch goes through DRF, which then either accepts it
(with its coercions) or answers the precise errors naming each field. So the fast path never accepts what DRF
would refuse, and never changes an error message. `tests/sync/test_push_validation.py` holds the two paths equal.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from server.sync import serializers as s

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_INT = s.MAX_ID


class _Unsure(Exception):
    """The fast path cannot vouch for a value: let DRF decide."""


def _text(value, max_length: int, allow_blank: bool) -> str:
    if type(value) is not str or len(value) > max_length or value != value.strip():
        raise _Unsure
    if not value and not allow_blank:
        raise _Unsure
    if "\x00" in value or (not value.isascii() and _SURROGATE.search(value)):
        raise _Unsure
    return value


def _integer(value, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _Unsure
    return value


def _number(value, low: float | None, high: float | None) -> float:
    if type(value) is not float and type(value) is not int:
        raise _Unsure
    value = float(value)
    if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
        raise _Unsure
    return value


def _flag(value) -> bool:
    if type(value) is not bool:
        raise _Unsure
    return value


def _uuid(value) -> uuid.UUID:
    if type(value) is not str:
        raise _Unsure
    try:
        return uuid.UUID(hex=value)
    except ValueError:
        raise _Unsure from None


def _time(value, tz) -> dt.datetime:
    if type(value) is not str:
        raise _Unsure
    try:
        parsed = parse_datetime(value)
    except ValueError:
        raise _Unsure from None
    if parsed is None or parsed.tzinfo is None:  # naive times: DRF's make_aware rules apply
        raise _Unsure
    try:
        return parsed.astimezone(tz)
    except OverflowError:
        raise _Unsure from None


_OPTIONAL = object()


def _visit(item, tz) -> dict:
    if type(item) is not dict:
        raise _Unsure
    get = item.get
    lat, lon = get("lat"), get("lon")
    lat = None if lat is None else _number(lat, -90, 90)
    lon = None if lon is None else _number(lon, -180, 180)
    if (lat is None) != (lon is None):
        raise _Unsure
    accuracy = get("accuracy_m")
    fix_at = get("fix_at")
    corrects = get("corrects")
    groups = get("key_groups_met", _OPTIONAL)
    if groups is _OPTIONAL:
        groups = []
    elif type(groups) is not list or len(groups) > 20:
        raise _Unsure
    else:
        groups = [g for g in groups if type(g) is str and len(g) <= 40 and _SLUG.match(g)]
        if len(groups) != len(item["key_groups_met"]):
            raise _Unsure
    for key in ("id", "household", "round", "outcome", "captured_at"):
        if key not in item:
            raise _Unsure
    return {
        "id": _uuid(item["id"]),
        "household": _integer(item["household"], 1, _MAX_INT),
        "round": _integer(item["round"], 1, _MAX_INT),
        "outcome": _text(item["outcome"], 32, False),
        "captured_at": _time(item["captured_at"], tz),
        "lat": lat,
        "lon": lon,
        "accuracy_m": None if accuracy is None else _number(accuracy, 0, None),
        "fix_at": None if fix_at is None else _time(fix_at, tz),
        "provider": _text(get("provider", ""), 16, True),
        "mock_location": _flag(get("mock_location", False)),
        "leaflet": _flag(get("leaflet", False)),
        "app_installed": _flag(get("app_installed", False)),
        "hotline_explained": _flag(get("hotline_explained", False)),
        "residents_met": _integer(get("residents_met", 0), 0, 999),
        "key_groups_met": groups,
        "risk_note": _text(get("risk_note", ""), 2000, True),
        "corrects": None if corrects is None else _uuid(corrects),
    }


def visits_fast(items) -> list[dict] | None:
    """The validated visits, exactly as `VisitInputSerializer(many=True)` gives them, or None when any item needs
    DRF's judgement."""
    if type(items) is not list:
        return None
    tz = timezone.get_current_timezone()
    try:
        return [_visit(item, tz) for item in items]
    except _Unsure:
        return None


class BatchInvalid(Exception):
    def __init__(self, errors):
        self.errors = errors
        super().__init__("invalid batch")


def push_batch_validate(data) -> dict:
    """A push body → {"visits", "household_reports", "claims"} of validated items; raises BatchInvalid with DRF's
    errors (field paths like visits[3].lat) when anything is wrong."""
    if type(data) is dict:
        visits = visits_fast(data.get("visits", []))
        if visits is not None:
            rest = s.PushRestInputSerializer(data=data)
            if rest.is_valid():
                return {"visits": visits, **rest.validated_data}
    full = s.PushInputSerializer(data=data)
    if not full.is_valid():
        raise BatchInvalid(full.errors)
    return dict(full.validated_data)

