from django.apps import AppConfig

from venture import permissions


class AuditConfig(AppConfig):
    name = "venture.audit"
    label = "audit"

    def ready(self):
        permissions.load_rules(self)
