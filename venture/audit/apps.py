from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "venture.audit"
    label = "audit"
