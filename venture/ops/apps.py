from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: backup and restore commands. No models."""

    name = "venture.ops"
    label = "ops"
