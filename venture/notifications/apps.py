from django.apps import AppConfig

from venture import permissions


class NotificationsConfig(AppConfig):
    name = "venture.notifications"
    label = "notifications"

    def ready(self):
        permissions.load_rules(self)
        # audit sits below every stage and imports none of them: this app follows the actions it has rules for.
        # Imported here because both modules import models, which exist only once the apps are loaded.
        from venture.audit import services as audit  # noqa: PLC0415

        from . import services  # noqa: PLC0415

        audit.follow(services.RULES, services.dispatch)
