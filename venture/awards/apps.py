from django.apps import AppConfig


class AwardsConfig(AppConfig):
    name = "venture.awards"
    label = "awards"

    def ready(self):
        from venture.results.services import register_unlock_guard

        from .services import live_awards_block_unlock

        register_unlock_guard(live_awards_block_unlock)
