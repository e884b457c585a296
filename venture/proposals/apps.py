from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "venture.proposals"
    label = "proposals"
