from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "server.registry"
    label = "registry"
    verbose_name = "住户登记"
