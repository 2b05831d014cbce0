from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from server.territory.models import Area, GridCell, PoliceStation


class AreaOutputSerializer(GeoFeatureModelSerializer):
    parent = serializers.CharField(source="parent.code", default=None, read_only=True)

    class Meta:
        model = Area
        geo_field = "geom"
        id_field = "code"
        fields = ["code", "name", "level", "parent"]


class GridCellOutputSerializer(GeoFeatureModelSerializer):
    community = serializers.CharField(source="community.code", read_only=True)
    community_name = serializers.CharField(source="community.name", read_only=True)

    class Meta:
        model = GridCell
        geo_field = "geom"
        id_field = "code"
        fields = ["code", "name", "community", "community_name"]


class PoliceStationOutputSerializer(GeoFeatureModelSerializer):
    district = serializers.CharField(source="district.code", default=None, read_only=True)

    class Meta:
        model = PoliceStation
        geo_field = "geom"
        id_field = "code"
        fields = ["code", "name", "district"]
