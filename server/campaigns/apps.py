from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "server.campaigns"
    label = "campaigns"
    verbose_name = "敲门行动"
