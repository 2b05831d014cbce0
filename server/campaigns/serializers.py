from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from server.accounts.models import Team
from server.campaigns.models import AssignmentChange, Campaign, OutcomeCode, Round
from server.territory.models import GridCell

MAX_ID = 2**63 - 1  # database ids are 64-bit: a larger number is a 400, not a database error


class OutcomeCodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutcomeCode
        fields = ["code", "label", "label_en", "reached", "revisit", "excluded", "order"]


class RoundOutputSerializer(serializers.ModelSerializer):
    campaign = serializers.IntegerField(source="campaign_id", read_only=True)

    class Meta:
        model = Round
        fields = ["id", "campaign", "number", "starts_on", "ends_on", "status", "opened_at", "closed_at"]


class CampaignOutputSerializer(serializers.ModelSerializer):
    areas = serializers.SlugRelatedField(many=True, slug_field="code", read_only=True)
    outcome_codes = OutcomeCodeSerializer(many=True, read_only=True)
    rounds = RoundOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "name", "description", "areas", "starts_on", "ends_on", "outcome_codes", "rounds"]


class CampaignInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    areas = serializers.ListField(child=serializers.CharField(max_length=20), min_length=1,
                                  help_text="区域代码 area codes")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class RoundInputSerializer(serializers.Serializer):
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class HolderSerializer(serializers.Serializer):
    team = serializers.IntegerField(allow_null=True)
    team_name = serializers.CharField(allow_null=True)
    worker = serializers.CharField(allow_null=True)
    source = serializers.CharField(allow_null=True)


class RoundCellSerializer(GeoFeatureModelSerializer):
    """A cell of a round with who holds it and its workload."""

    community_name = serializers.CharField(source="community.name", read_only=True)
    households = serializers.SerializerMethodField()
    team = serializers.SerializerMethodField()
    team_name = serializers.SerializerMethodField()
    worker = serializers.SerializerMethodField()
    source = serializers.SerializerMethodField()

    class Meta:
        model = GridCell
        geo_field = "geom"
        id_field = "code"
        fields = ["code", "name", "community_name", "households", "team", "team_name", "worker", "source"]

    def _a(self, obj):
        return self.context["assignments"].get(obj.id)

    def get_households(self, obj) -> int:
        return self.context["workloads"].get(obj.id, 0)

    def get_team(self, obj) -> int | None:
        a = self._a(obj)
        return a.team_id if a else None

    def get_team_name(self, obj) -> str | None:
        a = self._a(obj)
        return a.team.name if a and a.team_id else None

    def get_worker(self, obj) -> str | None:
        a = self._a(obj)
        return a.worker.username if a and a.worker_id else None

    def get_source(self, obj) -> str | None:
        a = self._a(obj)
        return a.source if a else None


class AssignInputSerializer(serializers.Serializer):
    cell = serializers.CharField(help_text="网格编码 cell code")
    team = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID)
    worker = serializers.CharField(required=False, allow_null=True, default=None, help_text="用户名 username")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class AutoAssignInputSerializer(serializers.Serializer):
    teams = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1)
    keep_manual = serializers.BooleanField(default=True, help_text="保留人工分配 keep manual assignments")
    reason = serializers.CharField(required=False, allow_blank=True, default="自动分配 auto-assign")


class ClaimInputSerializer(serializers.Serializer):
    cell = serializers.CharField()


class AssignmentChangeSerializer(serializers.ModelSerializer):
    cell = serializers.CharField(source="cell.code")
    from_team = serializers.CharField(source="from_team.name", default=None)
    from_worker = serializers.CharField(source="from_worker.username", default=None)
    to_team = serializers.CharField(source="to_team.name", default=None)
    to_worker = serializers.CharField(source="to_worker.username", default=None)
    changed_by = serializers.CharField(source="changed_by.username", default=None)

    class Meta:
        model = AssignmentChange
        fields = ["cell", "from_team", "from_worker", "to_team", "to_worker", "changed_by", "changed_at", "reason",
                  "remaining_households"]


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(many=True, slug_field="username", read_only=True)
    area = serializers.CharField(source="area.code")

    class Meta:
        model = Team
        fields = ["id", "name", "area", "members", "households_per_day"]


class WalkListEntrySerializer(serializers.Serializer):
    order = serializers.IntegerField()
    register_id = serializers.CharField()
    address = serializers.CharField()
    building = serializers.CharField()
    unit = serializers.CharField()
    floor = serializers.IntegerField(allow_null=True)
    room = serializers.CharField()
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    residents = serializers.IntegerField()
    elderly = serializers.IntegerField()
    outcome = serializers.CharField(source="state.outcome", default=None)
    reached = serializers.BooleanField(source="state.reached", default=False)
