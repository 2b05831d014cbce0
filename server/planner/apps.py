from django.apps import AppConfig


class PlannerConfig(AppConfig):
    name = "server.planner"
    label = "planner"
    verbose_name = "规划页面"
