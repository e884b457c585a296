from django.apps import AppConfig

from venture import permissions


class BackgroundConfig(AppConfig):
    name = "venture.background"
    label = "background"
    verbose_name = "Background tasks"

    def ready(self):
        permissions.load_rules(self)
