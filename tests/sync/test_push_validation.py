"""The push's fast visit check (server/sync/validation.py) against DRF's serializer: whenever the fast path accepts
a batch, DRF accepts it too and gives exactly the same validated data; the fast path is taken for clean batches."""

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.sync import serializers as s
from server.sync.validation import BatchInvalid, push_batch_validate, visits_fast


def clean_visit(**extra) -> dict:
    item = {"id": str(uuid.uuid4()), "household": 17, "round": 3, "outcome": "reached",
            "captured_at": "2026-11-25T10:00:00+08:00", "lat": 32.3, "lon": 118.3, "accuracy_m": 8,
            "fix_at": "2026-11-25T01:59:58Z", "provider": "gps", "mock_location": False, "leaflet": True,
            "app_installed": False, "hotline_explained": True, "residents_met": 2, "key_groups_met": ["elderly"],
            "risk_note": "老人独居，已讲解冒充公检法诈骗"}
    item.update(extra)
    return item


def drf(items):
    serializer = s.VisitInputSerializer(data=items, many=True)
    return [dict(v) for v in serializer.validated_data] if serializer.is_valid() else None


def test_a_clean_batch_takes_the_fast_path_with_drf_s_result():
    items = [clean_visit(), clean_visit(lat=None, lon=None, fix_at=None, accuracy_m=None, corrects=str(uuid.uuid4())),
             {k: v for k, v in clean_visit().items() if k not in ("provider", "key_groups_met", "risk_note")}]
    fast = visits_fast(items)
    assert fast is not None
    assert fast == drf(items)
    assert fast[0]["captured_at"] == dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("change, drf_accepts", [
    ({"household": "17"}, True), ({"lat": "32.3"}, True), ({"leaflet": "true"}, True),
    ({"captured_at": "2026-11-25T10:00:00"}, True), ({"provider": " gps "}, True),
    ({"key_groups_met": ["elderly", 5]}, True), ({"residents_met": True}, False), ({"lon": None}, False),
])
def test_values_the_fast_path_is_unsure_of_go_through_drf(change, drf_accepts):
    """Sent as a string, a naive time, with spaces, a lat without its lon…: the fast path gives up and DRF decides."""
    items = [clean_visit(**change)]
    assert visits_fast(items) is None
    assert (drf(items) is not None) is drf_accepts
    if drf_accepts:
        assert push_batch_validate({"visits": items})["visits"] == drf(items)
    else:
        with pytest.raises(BatchInvalid):
            push_batch_validate({"visits": items})


def test_errors_name_the_field_as_before():
    with pytest.raises(BatchInvalid) as e:
        push_batch_validate({"visits": [clean_visit(), clean_visit(lat=91)], "claims": [{"id": "x"}]})
    assert set(e.value.errors) == {"visits", "claims"}
    assert "lat" in e.value.errors["visits"][1] and "round" in e.value.errors["claims"][0]


def test_ids_beyond_64_bits_are_refused_not_a_database_error():
    with pytest.raises(BatchInvalid) as e:
        push_batch_validate({"visits": [clean_visit(household=2**63)]})
    assert "household" in e.value.errors["visits"][0]


anything = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**64, max_value=2**64), st.floats(allow_nan=True),
    st.text(max_size=5), st.sampled_from(["", " ", "gps", "2026-11-25T10:00:00Z", "2026-13-01T00:00:00Z",
                                          "2026-11-25T10:00:00", "elderly", "\x00", "\ud800", "1e400"]),
    st.lists(st.sampled_from(["elderly", "student", "bad slug", "", 3]), max_size=3),
)
fields = st.sampled_from(["id", "household", "round", "outcome", "captured_at", "lat", "lon", "accuracy_m", "fix_at",
                          "provider", "mock_location", "leaflet", "app_installed", "hotline_explained",
                          "residents_met", "key_groups_met", "risk_note", "corrects", "unknown"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(fields, anything), max_size=3), drop=st.lists(fields, max_size=2))
def test_the_fast_path_never_accepts_what_drf_refuses(changes, drop):
    first = clean_visit()
    item = clean_visit()
    for key, value in changes:
        item[key] = value
    for key in drop:
        item.pop(key, None)
    fast = visits_fast([first, item])
    if fast is not None:
        assert fast == drf([first, item])
