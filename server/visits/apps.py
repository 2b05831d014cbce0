from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "server.visits"
    label = "visits"
    verbose_name = "走访记录"
