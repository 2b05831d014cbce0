from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "server.common"
    label = "common"
    verbose_name = "公共"
