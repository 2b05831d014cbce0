from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "server.sync"
    label = "sync"
    verbose_name = "同步与设备 Sync and devices"

    def ready(self):
        from server.sync import schema  # noqa: F401  (OpenAPI description of the token authentication)
