"""Input and output serializers of the coverage API (the output ones document the answers in OpenAPI)."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework_gis.fields import GeometryField

from server.campaigns import selectors as campaign_selectors
from server.campaigns.models import Round
from server.coverage.households import STATES
from server.coverage.selectors import LEVELS, CoverageQueryError, area_path


class CoverageQuerySerializer(serializers.Serializer):
    """round= or campaign= (exactly one), area= (optional). Unknown ids and codes outside the caller's territory
    are answered as if they did not exist."""

    round = serializers.IntegerField(required=False, min_value=1, help_text="轮次编号 round id")
    campaign = serializers.IntegerField(required=False, min_value=1,
                                        help_text="行动编号 campaign id (the campaign as a whole, instead of round)")
    area = serializers.CharField(required=False, allow_blank=True, max_length=24,
                                 help_text="区域或网格代码：只看其下 an area's or cell's code: its subtree only")

    def validate(self, data):
        user = self.context["request"].user
        if ("round" in data) == ("campaign" in data):
            raise serializers.ValidationError({"round": ["请给出 round（轮次）或 campaign（行动）之一，只给一个 / "
                                                         "give either round or campaign, exactly one"]})
        visible = campaign_selectors.campaign_list(user=user)
        if "round" in data:
            data["round"] = Round.objects.select_related("campaign").filter(
                campaign__in=visible, pk=data["round"]).first() or self._missing("round", data["round"], "轮次")
        else:
            data["campaign"] = visible.filter(pk=data["campaign"]).first() or \
                self._missing("campaign", data["campaign"], "行动")
        if data.get("area"):
            try:
                area_path(user=user, area_code=data["area"])
            except CoverageQueryError as exc:
                raise serializers.ValidationError({"area": [f"{exc.zh} / {exc.en}"]}) from None
        data["area_code"] = data.pop("area", "") or None
        return data

    @staticmethod
    def _missing(name: str, value: int, zh: str):
        raise serializers.ValidationError({name: [f"没有编号为 {value} 的{zh}（或不在您的辖区内）/ no {name} {value} "
                                                  "in your territory"]})

    def selector_kwargs(self) -> dict:
        data = self.validated_data
        return {"round": data.get("round"), "campaign": data.get("campaign"), "area_code": data["area_code"]}


class CoverageAreaQuerySerializer(CoverageQuerySerializer):
    level = serializers.ChoiceField(choices=LEVELS, required=False, default="cell",
                                    help_text="层级 level: city, district, township, community, cell")


class KeyGroupFiguresSerializer(serializers.Serializer):
    name = serializers.CharField()
    name_en = serializers.CharField()
    residents = serializers.IntegerField(help_text="应访户中该人群人数 residents in households to visit")
    reached = serializers.IntegerField(help_text="其中见面户中的人数 of whom in households reached")
    coverage = serializers.FloatField(allow_null=True)


class FiguresSerializer(serializers.Serializer):
    to_visit = serializers.IntegerField(help_text="应访户数 households to visit")
    attempted = serializers.IntegerField(help_text="已走访户数 households with a visit")
    reached = serializers.IntegerField(help_text="见面户数 reached face to face")
    nobody_home = serializers.IntegerField()
    refused = serializers.IntegerField()
    excluded = serializers.IntegerField(help_text="空置、搬离、地址有误 found vacant, moved, wrong address")
    vacant = serializers.IntegerField(help_text="其中空置 of which vacant")
    app_installs = serializers.IntegerField()
    visits = serializers.IntegerField()
    flagged_visits = serializers.IntegerField()
    coverage = serializers.FloatField(allow_null=True, help_text="reached ÷ (to_visit − excluded)")
    key_groups = serializers.DictField(child=KeyGroupFiguresSerializer())


class AreaRowSerializer(FiguresSerializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=LEVELS)


class SummarySerializer(FiguresSerializer):
    cells = serializers.IntegerField()


class CoverageAnswerSerializer(serializers.Serializer):
    round = serializers.IntegerField(allow_null=True)
    campaign = serializers.IntegerField()
    level = serializers.ChoiceField(choices=LEVELS)
    area = serializers.CharField(allow_null=True)
    total = SummarySerializer()
    rows = AreaRowSerializer(many=True)


class DayRowSerializer(serializers.Serializer):
    day = serializers.DateField()
    reached_new = serializers.IntegerField()
    reached_cumulative = serializers.IntegerField()
    coverage_cumulative = serializers.FloatField(allow_null=True)
    visits = serializers.IntegerField()
    flagged_visits = serializers.IntegerField()
    workers_active = serializers.IntegerField()


class TeamRowSerializer(serializers.Serializer):
    team_id = serializers.IntegerField(allow_null=True)
    team = serializers.CharField()
    team_en = serializers.CharField()
    cells = serializers.IntegerField()
    to_visit = serializers.IntegerField()
    attempted = serializers.IntegerField()
    reached = serializers.IntegerField()
    excluded = serializers.IntegerField()
    coverage = serializers.FloatField(allow_null=True)
    visits = serializers.IntegerField()
    flagged_visits = serializers.IntegerField()
    workers = serializers.IntegerField()
    active_days = serializers.IntegerField()
    visits_per_day = serializers.FloatField(allow_null=True)
    reached_per_day = serializers.FloatField(allow_null=True)


class WorkerRowSerializer(serializers.Serializer):
    worker_id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    visits = serializers.IntegerField()
    households_attempted = serializers.IntegerField()
    households_reached = serializers.IntegerField()
    app_installs = serializers.IntegerField()
    flagged_visits = serializers.IntegerField()
    active_days = serializers.IntegerField()
    first_day = serializers.DateField(allow_null=True)
    last_day = serializers.DateField(allow_null=True)
    visits_per_day = serializers.FloatField(allow_null=True)
    reached_per_day = serializers.FloatField(allow_null=True)


def rows_answer(name: str, row_serializer: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """{"round", "campaign", "area", "rows": [...]} for the day, team and worker answers."""
    return type(name, (serializers.Serializer,), {
        "round": serializers.IntegerField(allow_null=True), "campaign": serializers.IntegerField(),
        "area": serializers.CharField(allow_null=True), "rows": row_serializer(many=True)})


DailyAnswerSerializer = rows_answer("CoverageDailyAnswer", DayRowSerializer)
TeamsAnswerSerializer = rows_answer("CoverageTeamsAnswer", TeamRowSerializer)
WorkersAnswerSerializer = rows_answer("CoverageWorkersAnswer", WorkerRowSerializer)



class FeaturePropertiesSerializer(AreaRowSerializer):
    coverage_class = serializers.ChoiceField(choices=["none", "lt50", "50_70", "70_85", "85_95", "ge95"],
                                             help_text="图例分档 legend class (docs/coverage-map.md)")


class CoverageFeatureSerializer(serializers.Serializer):
    """One area (or cell) as a GeoJSON Feature: its boundary (drf-gis, 6 decimals ≈ 0.1 m) and its figures."""

    geometry = GeometryField(precision=6, remove_duplicates=True, allow_null=True)

    def to_representation(self, row: dict) -> dict:
        properties = {k: v for k, v in row.items() if k != "geometry"}
        return {"type": "Feature", "id": row["code"],
                "geometry": self.fields["geometry"].to_representation(row["geometry"]), "properties": properties}


class CoverageFeatureCollectionSerializer(serializers.Serializer):
    """The GeoJSON answer's documented shape (OpenAPI); the features are built by CoverageFeatureSerializer."""

    type = serializers.CharField(default="FeatureCollection")
    round = serializers.IntegerField(allow_null=True)
    campaign = serializers.IntegerField()
    level = serializers.ChoiceField(choices=LEVELS)
    area = serializers.CharField(allow_null=True)
    total = SummarySerializer()
    features = serializers.ListField(child=serializers.DictField(),
                                     help_text="GeoJSON Features; properties: " + ", ".join(
                                         ["id", "code", "name", "level", "coverage_class", "…the figures"]))


class TileQuerySerializer(CoverageQuerySerializer):
    """round= or campaign=; no area (a tile shows every cell of the caller's territory inside it)."""

    area = None


class HouseholdsQuerySerializer(CoverageQuerySerializer):
    """round= (required: the list is a round's), area= (optional), state= (default not_reached)."""

    state = serializers.ChoiceField(choices=list(STATES), required=False, default="not_reached",
                                    help_text="not_reached 未见面（默认）, reached 已见面, excluded 不计入, all 全部")

    def validate(self, data):
        if "round" not in data:
            raise serializers.ValidationError({"round": ["住户清单按轮次给出，请给出 round / the list is a round's: "
                                                         "give round"]})
        return super().validate(data)


class HouseholdRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    register_id = serializers.CharField()
    community = serializers.CharField()
    cell = serializers.CharField()
    address = serializers.CharField()
    state = serializers.ChoiceField(choices=["not_reached", "reached", "excluded"])
    outcome = serializers.CharField(allow_null=True, help_text="最近一次结果代码 latest outcome code")
    outcome_label = serializers.CharField(allow_null=True)
    visits = serializers.IntegerField()
    last_visit_at = serializers.DateTimeField(allow_null=True)
    residents = serializers.IntegerField()
    contact = serializers.CharField(help_text="脱敏联系人 masked: surname and 138****1234")
    lat = serializers.FloatField()
    lon = serializers.FloatField()
