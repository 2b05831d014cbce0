from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from server.registry.models import Household, KeyPlace, Resident


class HouseholdOutputSerializer(GeoFeatureModelSerializer):
    community = serializers.CharField(source="community.code", read_only=True)
    cell = serializers.CharField(source="cell.code", default=None, read_only=True)
    resident_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Household
        geo_field = "location"
        id_field = "register_id"
        fields = [
            "register_id", "community", "cell", "street", "building", "unit", "floor", "room",
            "address", "status", "size", "resident_count",
        ]


class ResidentOutputSerializer(serializers.ModelSerializer):
    """A resident as every screen sees them: phone masked, ID reduced to its last four characters."""

    household = serializers.CharField(source="household.register_id", read_only=True)
    phone = serializers.CharField(source="phone_masked", read_only=True)
    elderly = serializers.BooleanField(source="is_elderly", read_only=True)
    key_groups = serializers.SlugRelatedField(many=True, slug_field="code", read_only=True)

    class Meta:
        model = Resident
        fields = ["id", "household", "name", "sex", "birth_year", "phone", "id_last4", "elderly", "key_groups"]


class KeyPlaceOutputSerializer(GeoFeatureModelSerializer):
    community = serializers.CharField(source="community.code", read_only=True)
    contact_phone = serializers.CharField(source="contact_phone_masked", read_only=True)

    class Meta:
        model = KeyPlace
        geo_field = "location"
        fields = ["id", "kind", "name", "community", "address", "contact_name", "contact_phone", "size"]
