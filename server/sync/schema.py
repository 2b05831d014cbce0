"""OpenAPI: describe the device token authentication so drf-spectacular documents every endpoint's security."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = "server.sync.auth.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "设备令牌 device token from POST /api/v1/auth/device: `Token <token>`",
        }
