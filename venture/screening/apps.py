from django.apps import AppConfig

from venture import permissions


class ScreeningConfig(AppConfig):
    name = "venture.screening"
    label = "screening"

    def ready(self):
        permissions.load_rules(self)
