from django.apps import AppConfig

from venture import permissions


class AwardsConfig(AppConfig):
    name = "venture.awards"
    label = "awards"

    def ready(self):
        permissions.load_rules(self)
