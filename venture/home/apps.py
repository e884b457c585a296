from django.apps import AppConfig

from venture import permissions


class HomeConfig(AppConfig):
    """The role home pages (dashboards): they read from every stage and nothing reads from them."""

    name = "venture.home"
    label = "home"

    def ready(self):
        permissions.load_rules(self)
