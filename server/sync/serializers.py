"""Input and output serializers of the sync API (the wire contract: docs/sync-protocol.md)."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from server.sync.models import HouseholdReportKind

MAX_ID = 2**63 - 1  # database ids are 64-bit: a larger number is a 400, not a database error


class DeviceAuthInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    device_id = serializers.CharField(max_length=64)
    device_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class DiscardedSerializer(serializers.Serializer):
    visits = serializers.IntegerField(min_value=0, max_value=1_000_000, default=0)
    household_reports = serializers.IntegerField(min_value=0, max_value=1_000_000, default=0)
    claims = serializers.IntegerField(min_value=0, max_value=1_000_000, default=0)


class DeviceWipedInputSerializer(serializers.Serializer):
    discarded = DiscardedSerializer(help_text="未上传即被清除的条数 items not uploaded, wiped with the rest")


class DeviceUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField()
    name = serializers.CharField()


class DeviceAuthOutputSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="只显示一次 shown once; send as `Authorization: Token <token>`")
    expires_at = serializers.DateTimeField()
    user = DeviceUserSerializer()


class PullQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(required=False, allow_blank=True, default="", max_length=80,
                                   help_text="上次拉取返回的游标；空=全量 cursor of the last pull; empty = everything")
    limit = serializers.IntegerField(required=False, min_value=1, default=1000,
                                     max_value=settings.QIAOMEN_SYNC_PAGE_LIMIT,
                                     help_text="每页记录数上限（网格不拆分） records per page (a cell is never split)")


class PullOutputSerializer(serializers.Serializer):
    cursor = serializers.CharField()
    has_more = serializers.BooleanField()
    reset = serializers.BooleanField(help_text="true: replace all local data with this pull")
    changes = serializers.DictField(child=serializers.ListField(child=serializers.DictField()),
                                    help_text="rounds, outcome_codes, cells, households, household_states")
    deleted = serializers.DictField(child=serializers.ListField(child=serializers.IntegerField()),
                                    help_text="rounds, outcome_codes, cells, households: ids to delete")
    server_time = serializers.DateTimeField()


class VisitInputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="手机生成的 UUID made on the phone")
    household = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    round = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    outcome = serializers.CharField(max_length=32)
    captured_at = serializers.DateTimeField(help_text="设备时间 device time, ISO 8601")
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True, default=None)
    lon = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True, default=None)
    accuracy_m = serializers.FloatField(min_value=0, required=False, allow_null=True, default=None)
    fix_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    provider = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    mock_location = serializers.BooleanField(required=False, default=False)
    leaflet = serializers.BooleanField(required=False, default=False)
    app_installed = serializers.BooleanField(required=False, default=False)
    hotline_explained = serializers.BooleanField(required=False, default=False)
    residents_met = serializers.IntegerField(min_value=0, max_value=999, required=False, default=0)
    key_groups_met = serializers.ListField(child=serializers.SlugField(max_length=40), required=False, default=list,
                                           max_length=20)
    risk_note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    corrects = serializers.UUIDField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if (attrs["lat"] is None) != (attrs["lon"] is None):
            raise serializers.ValidationError({"lat": ["lat 与 lon 须同时提供 / lat and lon go together"]})
        return attrs


class HouseholdReportInputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=HouseholdReportKind.choices)
    household = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True, default=None)
    round = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True, default=None)
    cell = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True, default=None)
    captured_at = serializers.DateTimeField()
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True, default=None)
    lon = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True, default=None)
    accuracy_m = serializers.FloatField(min_value=0, required=False, allow_null=True, default=None)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    street = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    building = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    floor = serializers.IntegerField(min_value=-10, max_value=200, required=False, allow_null=True, default=None)
    room = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        errors = {}
        if (attrs["lat"] is None) != (attrs["lon"] is None):
            errors["lat"] = ["lat 与 lon 须同时提供 / lat and lon go together"]
        kind = attrs["kind"]
        if kind == HouseholdReportKind.NEW_HOUSEHOLD:
            if attrs["lat"] is None:
                errors["lat"] = ["新住户须带位置 / a new household needs a location"]
            if not attrs["cell"]:
                errors["cell"] = ["新住户须指明网格 / a new household needs its cell"]
            if not (attrs["address"] or attrs["building"] or attrs["room"]):
                errors["address"] = ["新住户须带地址 / a new household needs an address"]
        else:
            if not attrs["household"]:
                errors["household"] = ["此类报告须指明住户 / this report needs a household"]
            if kind == HouseholdReportKind.WRONG_LOCATION and attrs["lat"] is None:
                errors["lat"] = ["须提供更正后的位置 / the corrected location is required"]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class OfflineClaimInputSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="手机生成的 UUID (for matching the result)")
    round = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    cell = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    claimed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class PushRestInputSerializer(serializers.Serializer):
    """The household reports and claims of a push (its visits go through sync.validation's fast path first)."""

    household_reports = HouseholdReportInputSerializer(many=True, required=False, default=list)
    claims = OfflineClaimInputSerializer(many=True, required=False, default=list)


class PushInputSerializer(PushRestInputSerializer):
    visits = VisitInputSerializer(many=True, required=False, default=list)


class PushResultSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["visit", "household_report", "claim"])
    id = serializers.CharField()
    status = serializers.ChoiceField(choices=["accepted", "duplicate", "rejected"])
    code = serializers.CharField()
    message = serializers.CharField()
    flags = serializers.ListField(child=serializers.CharField(), required=False,
                                  help_text="visits: far, inaccurate, mock, clock (flagged, still accepted)")


class PushOutputSerializer(serializers.Serializer):
    results = PushResultSerializer(many=True)
    server_time = serializers.DateTimeField()


class SyncErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text='field path → messages, e.g. {"visits[3].lat": ["..."]}')


def flatten_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors → {"visits[3].lat": [...]}: the phone can point at the very field."""
    out: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten_errors(value, path))
    elif isinstance(errors, list):
        if all(not isinstance(e, (dict, list)) for e in errors):
            if errors:
                out[prefix or "non_field_errors"] = [str(e) for e in errors]
        else:
            for i, item in enumerate(errors):
                if item:
                    out.update(flatten_errors(item, f"{prefix}[{i}]"))
    else:
        out[prefix or "non_field_errors"] = [str(errors)]
    return out
