from django.apps import AppConfig

from venture import permissions


class AwardsConfig(AppConfig):
    name = "venture.awards"
    label = "awards"

    def ready(self):
        # Services import models, which exist only once the app registry is ready.
        from venture.results.services import register_unlock_guard  # noqa: PLC0415

        from .services import live_awards_block_unlock  # noqa: PLC0415

        register_unlock_guard(live_awards_block_unlock)
        permissions.load_rules(self)
