from django.apps import AppConfig

from venture import permissions
from venture.competitions import setup


class JudgingConfig(AppConfig):
    name = "judging"

    def ready(self):
        permissions.load_rules(self)
        setup.load(self, "rubric")
