from django.apps import AppConfig

from venture import permissions


class ProposalsConfig(AppConfig):
    name = "venture.proposals"
    label = "proposals"

    def ready(self):
        permissions.load_rules(self)
