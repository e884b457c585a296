from django.apps import AppConfig

from venture import permissions
from venture.competitions import setup


class SupervisionConfig(AppConfig):
    name = "venture.supervision"
    label = "supervision"

    def ready(self):
        permissions.load_rules(self)
        setup.load(self, "evaluation_rubric")
