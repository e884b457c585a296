from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "venture.organizations"
    label = "organizations"
