from django.apps import AppConfig

from venture import permissions


class OrganizationsConfig(AppConfig):
    name = "venture.organizations"
    label = "organizations"

    def ready(self):
        permissions.load_rules(self)
