from django.apps import AppConfig

from venture import permissions


class ResultsConfig(AppConfig):
    name = "venture.results"
    label = "results"

    def ready(self):
        permissions.load_rules(self)
