from django.apps import AppConfig


class TerritoryConfig(AppConfig):
    name = "server.territory"
    label = "territory"
    verbose_name = "辖区与网格"
