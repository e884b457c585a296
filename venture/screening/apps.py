from django.apps import AppConfig

from venture import permissions
from venture.competitions import setup


class ScreeningConfig(AppConfig):
    name = "venture.screening"
    label = "screening"

    def ready(self):
        permissions.load_rules(self)
        setup.load(self, "checklist")
