from django.apps import AppConfig

from venture import permissions


class CompetitionsConfig(AppConfig):
    name = "venture.competitions"
    label = "competitions"

    def ready(self):
        permissions.load_rules(self)
