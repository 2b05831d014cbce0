from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts.models import User


class MeApi(APIView):
    """当前用户 The signed-in user, their role and areas."""

    class OutputSerializer(serializers.ModelSerializer):
        areas = serializers.SlugRelatedField(many=True, slug_field="code", read_only=True)

        class Meta:
            model = User
            fields = ["id", "username", "first_name", "last_name", "role", "areas"]

    @extend_schema(tags=["accounts"], responses=OutputSerializer)
    def get(self, request):
        return Response(self.OutputSerializer(request.user).data)
