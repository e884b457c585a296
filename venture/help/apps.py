from django.apps import AppConfig

from venture import permissions


class HelpConfig(AppConfig):
    """The user manual (操作手册): chapters per role from docs/manual/, search, the "?" link, the explainer."""

    name = "venture.help"
    label = "help"

    def ready(self):
        permissions.load_rules(self)
